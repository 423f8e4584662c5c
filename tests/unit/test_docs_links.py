"""README.md is a landing page (under 150 lines), and every relative link of README.md
and the docs pages resolves: to a file, and for ``page.md#anchor`` to one of its headings
(GitHub's anchors, which ``myst_heading_anchors`` gives the Sphinx site too)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..readme import README, ROOT, blocks, pages

_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_CODE = re.compile(r"`[^`]*`")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")


def slug(title: str) -> str:
    """GitHub's (and MyST's) anchor of a heading: lower case, punctuation dropped, spaces to ``-``."""
    text = title.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _prose(page: Path, keep_code: bool = False) -> list[tuple[int, str]]:
    """The page's lines outside code blocks, with inline code removed unless ``keep_code``."""
    inside = {n for b in blocks(page) for n in range(b.line, b.line + b.code.count("\n") + 2)}
    return [(n, line if keep_code else _CODE.sub("", line))
            for n, line in enumerate(page.read_text().splitlines(), 1) if n not in inside]


def anchors(page: Path) -> set[str]:
    """Every heading anchor of ``page`` (a repeated heading gets ``-1``, ``-2``, ... as on GitHub)."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in _prose(page, keep_code=True):
        head = _HEADING.match(line)
        if head is None:
            continue
        base = slug(head.group(1))
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found


def links(page: Path) -> list[tuple[int, str]]:
    """(line, target) of every relative link of ``page`` (``#anchor`` alone included; URLs with a scheme left out)."""
    return [(n, target) for n, line in _prose(page) for target in _LINK.findall(line)
            if not re.match(r"^[a-z]+:", target)]


def test_readme_is_a_landing_page_under_150_lines() -> None:
    text = README.read_text()
    assert len(text.splitlines()) < 150
    assert "make demo" in text and "make test" in text
    assert any(target.startswith("docs/") for _, target in links(README)), "README links into the docs"


def test_slugs_are_githubs() -> None:
    assert slug("In the shell: `%nxwrite`") == "in-the-shell-nxwrite"
    assert slug("Headless: `ctlshell serve`") == "headless-ctlshell-serve"
    assert slug("Device properties (as NXSDataWriter's)") == "device-properties-as-nxsdatawriters"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for n, target in links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.is_file():
            broken.append(f"{page.relative_to(ROOT)}:{n}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{page.relative_to(ROOT)}:{n}: {target} (no heading with that anchor in {dest.name})")
    assert not broken, "\n".join(broken)


def test_a_broken_link_is_reported(tmp_path: Path) -> None:
    """The check itself can fail: a missing file and a missing anchor are both found."""
    page = tmp_path / "p.md"
    page.write_text("# Top\n\n## A `b` c\n\n[ok](p.md#a-b-c) [gone](q.md) [bad](p.md#nope) `[code](x.md)`\n")
    assert anchors(page) == {"top", "a-b-c"}
    found = links(page)
    assert [t for _, t in found] == ["p.md#a-b-c", "q.md", "p.md#nope"]
    assert not (tmp_path / "q.md").exists() and "nope" not in anchors(page)
