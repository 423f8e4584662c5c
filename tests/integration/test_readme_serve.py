"""The hosting page's ``ctlshell serve`` lines run as written (with the venv's ``ctlshell``)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import ctlshell

from ..readme import ROOT


def test_readme_serve_lines_run(ioc, prefix, tmp_path, monkeypatch):
    lines = [line for line in (ROOT / "docs/guide/hosting.md").read_text().splitlines() if line.startswith(".venv/bin/ctlshell serve ")]
    assert len(lines) >= 2, "the hosting page shows how to run ctlshell serve"
    assert Path(sys.executable).with_name("ctlshell").exists()  # what .venv/bin/ctlshell is here
    monkeypatch.chdir(tmp_path)  # --state oven.db lands in the test's folder
    words = shlex.split(lines[0])
    words[words.index("--prefix") + 1] = prefix  # a prefix of this test's own
    ioc("-m", "ctlshell.cli", *words[1:], ready_text="ctlshell serve: ready")
    assert ctlshell.get(f"ca://{prefix}SETPOINT").value == 295.0
    assert (tmp_path / "oven.db").exists()
