"""Every ``python`` / ``ipython`` block of README.md and ``docs/**/*.md`` is run by a test,
or says on the line above its fence why it cannot run (``<!-- not-run: reason -->``).

Which blocks the tests run is read from the tests themselves: each call of
``run_example`` / ``example_code`` (``tests/readme.py``) names its page, heading and
index as literals, so a new example without a test, or a test whose example moved,
fails here without running anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ..readme import RUNNABLE, ROOT, Block, blocks, find_example, pages

TESTS = ROOT / "tests"
_RUNNERS = ("run_example", "example_code")


def _calls() -> list[tuple[str, int, tuple[str, str, int, str]]]:
    """(test file, line, (page, heading, index, language)) of every runner call under tests/."""
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name not in _RUNNERS or path.name in ("readme.py", Path(__file__).name):
                continue
            args = [a.value if isinstance(a, ast.Constant) else None for a in node.args[:3]]
            keywords = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
            index = keywords.get("index", args[2] if len(args) > 2 else 0)
            language = keywords.get("language", "python")
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            assert len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str) \
                and isinstance(index, int), f"{where}: {name}() needs its page, heading (and index) as literals"
            found.append((where, node.lineno, (args[0], args[1], index, language)))
    return found


def _covered() -> set[tuple[str, int]]:
    return {(b.page, b.line) for b in (find_example(*key) for _, _, key in _calls())}


def _runnable() -> list[Block]:
    return [b for page in pages() for b in blocks(page) if b.language in RUNNABLE]


def test_the_runner_calls_are_found() -> None:
    pages_run = {key[0] for _, _, key in _calls()}
    # the README's tour and the guide's examples are run by tests named for them
    assert {"README.md", "docs/guide/hosting.md", "docs/guide/proxies.md", "docs/guide/tango.md"} <= pages_run


@pytest.mark.parametrize("where, key", [(w, k) for w, _, k in _calls()], ids=lambda v: str(v))
def test_each_runner_call_names_an_example_that_exists(where: str, key: tuple[str, str, int, str]) -> None:
    block = find_example(*key)  # fails with "no line starting with ..." when the example moved
    assert block.not_run is None, f"{where} runs {block.page}:{block.line}, which is marked not-run"


def test_every_python_block_of_the_docs_is_run_or_says_why_not() -> None:
    covered = _covered()
    missing = [f"{b.page}:{b.line} (under {b.heading!r})" for b in _runnable()
               if (b.page, b.line) not in covered and not b.not_run]
    assert not missing, "python blocks no test runs (run them with tests/readme.py's run_example, " \
                        "or mark them <!-- not-run: reason -->):\n" + "\n".join(missing)


def test_a_not_run_mark_gives_a_reason_and_only_on_runnable_blocks() -> None:
    for page in pages():
        text = page.read_text().splitlines()
        inside = {n for b in blocks(page) for n in range(b.line, b.line + b.code.count("\n") + 1)}
        marks = [n for n, line in enumerate(text) if line.lstrip().startswith("<!-- not-run") and n + 1 not in inside]
        for n in marks:
            fence = text[n + 1] if n + 1 < len(text) else ""
            where = f"{page.relative_to(ROOT)}:{n + 1}"
            assert fence.startswith("```") and fence[3:].strip() in RUNNABLE, \
                f"{where}: a not-run mark must be the line right above a python/ipython fence"
            block = next(b for b in blocks(page) if b.line == n + 2)
            assert block.not_run and len(block.not_run) >= 10, f"{where}: say why it cannot run"


def test_the_checker_sees_an_unrun_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: a page with a new, unmarked example is reported."""
    from .. import readme

    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "README.md").write_text("# x\n")
    (docs / "new.md").write_text("# New\n\n```python\nprint(1)\n```\n\n"
                                 "<!-- not-run: needs a facility network -->\n```python\nprint(2)\n```\n")
    monkeypatch.setattr(readme, "ROOT", tmp_path)
    monkeypatch.setattr(readme, "DOCS", docs)
    monkeypatch.setattr(readme, "README", tmp_path / "README.md")
    found = [b for p in readme.pages() for b in readme.blocks(p) if b.language in RUNNABLE]
    assert [(b.page, b.line, b.not_run) for b in found] == [
        ("docs/new.md", 3, None), ("docs/new.md", 8, "needs a facility network")]
