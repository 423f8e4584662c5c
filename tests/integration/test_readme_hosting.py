"""The docs' hosting example runs as written: a Daemon with a read-through Item,
a Device, hosted and unhosted."""

from __future__ import annotations

import ctlshell

from ..readme import run_example


def test_readme_hosting_example_runs_and_reads_through():
    lines = run_example("docs/guide/hosting.md", "## Daemons, items and devices")
    assert lines[-1] == "295.5"  # the Sensor item's req_refresh answered the read
    assert not any(name.startswith(("BL:OVEN:", "BL:SH:")) for name in ctlshell.hosted())
