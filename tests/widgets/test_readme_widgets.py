"""The README's widgets example runs as written (the demo beamline hosted in-process)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_widgets_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = README.read_text()
    section = text[text.index("### Live widgets and plots (notebooks)"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    exec(compile(code.group(1), "README.md", "exec"), {})  # noqa: S102 (our own README)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "slider 4.0 500.0"
    assert out[1] == "True True"
    assert "read-only" in out[2]
