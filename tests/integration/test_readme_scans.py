"""The docs' scan example runs as written and finds the demo's peak."""

from __future__ import annotations

import ctlshell

from ..readme import run_example


def test_readme_scan_example(capsys):
    lines = run_example("docs/guide/scans.md", "# Scans (bluesky)")
    assert not any(n.startswith("DEMO:") for n in ctlshell.hosted())
    assert lines[-1] == "2.5"
    assert sum(1 for line in lines if line.startswith("|") and line.split("|")[1].strip().isdigit()) == 26
