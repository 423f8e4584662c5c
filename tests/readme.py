"""Running a README example as written: the first ``python`` block under a heading."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def run_example(heading: str) -> list[str]:
    """Execute the first ``python`` code block after ``heading``; return its printed lines."""
    text = README.read_text()
    section = text[text.index(heading):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, f"no python block under {heading!r}"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "README.md", "exec"), {})  # noqa: S102 (our own README)
    return out.getvalue().splitlines()
