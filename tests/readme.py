"""Running the documentation's examples as written: README.md and the pages in ``docs/``.

A page's code blocks are found by the heading above them: ``run_example(page, heading)``
executes the first ``python`` block after ``heading`` in ``page`` (a path relative to
the repository, e.g. ``"docs/guide/hosting.md"``) and returns its printed lines.

``tests/unit/test_docs_examples.py`` reads the calls of :func:`run_example` and
:func:`example_code` in the tests (their page, heading and ``index`` written as
literals) and fails when a ``python`` or ``ipython`` block of the docs is run by none
and not marked, on the line above its fence, as ``<!-- not-run: the reason -->``.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

#: the languages whose blocks must be run by a test or marked as not runnable
RUNNABLE = ("python", "ipython")

_FENCE = re.compile(r"^(```+|~~~+)\s*([\w{}+-]*)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_NOT_RUN = re.compile(r"^<!--\s*not-run:\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page.

    Attributes
    ----------
    page : str
        The page's path relative to the repository (``"docs/guide/tour.md"``).
    line : int
        The line of its opening fence (1-based).
    language : str
        The fence's info word (``"python"``, ``"bash"``, ``""``).
    code : str
        The text between the fences.
    heading : str
        The nearest heading above it, as written (``"## Hosting"``), or ``""``.
    not_run : str or None
        The reason given by a ``<!-- not-run: reason -->`` line right above the fence.
    """

    page: str
    line: int
    language: str
    code: str
    heading: str
    not_run: str | None


def pages() -> list[Path]:
    """README.md and every markdown page under ``docs/`` (built output excluded)."""
    found = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.relative_to(DOCS).parts)
    return [README, *found]


def blocks(page: str | Path) -> list[Block]:
    """Every fenced code block of ``page``, in order."""
    path = ROOT / page
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()
    lines = path.read_text().splitlines()
    found: list[Block] = []
    heading = ""
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is None:
            head = _HEADING.match(lines[i])
            if head is not None:
                heading = lines[i].strip()
            i += 1
            continue
        marker, language = fence.group(1), fence.group(2)
        end = i + 1
        while end < len(lines) and not lines[end].startswith(marker):
            end += 1
        before = lines[i - 1] if i > 0 else ""
        reason = _NOT_RUN.match(before)
        found.append(Block(name, i + 1, language, "\n".join(lines[i + 1:end]) + "\n", heading,
                           reason.group(1) if reason else None))
        i = end + 1
    return found


def find_example(page: str, heading: str, index: int = 0, language: str = "python") -> Block:
    """The ``index``-th ``language`` block after the first line of ``page`` starting with ``heading``.

    Raises
    ------
    AssertionError
        When the page has no such heading or no such block after it (the example moved).
    """
    text = (ROOT / page).read_text().splitlines()
    starts = [n for n, line in enumerate(text, 1) if line.startswith(heading)]
    assert starts, f"{page} has no line starting with {heading!r}"
    after = [b for b in blocks(page) if b.line > starts[0] and b.language == language]
    assert len(after) > index, f"{page}: no {language} block #{index} after {heading!r}"
    return after[index]


def example_code(page: str, heading: str, index: int = 0, language: str = "python") -> str:
    """The text of the block :func:`find_example` finds, for a test that runs it its own way."""
    return find_example(page, heading, index, language).code


def run_example(page: str, heading: str, index: int = 0, replace: dict[str, str] | None = None) -> list[str]:
    """Execute the ``index``-th ``python`` block after ``heading`` in ``page``; return its printed lines.

    Parameters
    ----------
    page, heading, index
        As for :func:`find_example`.
    replace : dict, optional
        Text to substitute before running (a test's own port or folder for one the page
        names); each key must occur in the block.
    """
    block = find_example(page, heading, index)
    code = block.code
    for old, new in (replace or {}).items():
        assert old in code, f"{page}:{block.line}: {old!r} is not in the example"
        code = code.replace(old, new)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"{page}:{block.line}", "exec"), {})  # noqa: S102 (our own docs)
    return out.getvalue().splitlines()
