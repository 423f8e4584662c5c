"""The README's proxy example runs as written (against a hosted daemon, on loopback)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_proxy_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    text = README.read_text()
    section = text[text.index("### Driving devices: Karabo-style proxies"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    exec(compile(code.group(1), "README.md", "exec"), {})  # noqa: S102 (our own README)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "DimensionalityError"
    assert out[1] == "250.0 millimeter True None"
    assert "read-only" in out[2]
    assert out[3] == "1 dimensionless"
    assert out[4] == "homed" and out[5].startswith("0.0")
