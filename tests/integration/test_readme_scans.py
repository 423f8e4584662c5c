"""The docs' scan example runs as written and finds the demo's peak."""

from __future__ import annotations

import pytest

import ctlshell

from ..readme import run_example


@pytest.fixture(scope="module", autouse=True)
def _run_engine() -> None:
    """The session's RunEngine (made on first use, kept with its loop thread by design)
    exists before the leak check's snapshot, as when test_scans.py's import made it:
    alone, this file's example would make it and its thread would count as a leak."""
    from ctlshell.scans import run_engine

    run_engine()


def test_readme_scan_example(capsys):
    lines = run_example("docs/guide/scans.md", "# Scans (bluesky)")
    assert not any(n.startswith("DEMO:") for n in ctlshell.hosted())
    assert lines[-1] == "2.5"
    assert sum(1 for line in lines if line.startswith("|") and line.split("|")[1].strip().isdigit()) == 26
