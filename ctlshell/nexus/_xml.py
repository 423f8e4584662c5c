"""A small, safe XML reader for NXSDataWriter configurations: elements with their line
and column, so every later error can point at the place in the text.

Built on :mod:`xml.parsers.expat` directly. Document type declarations and entities
are refused (no entity expansion, no external fetches). Knows nothing of NeXus.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr
from dataclasses import dataclass, field
from xml.parsers import expat

from ..core import ValidationError

__all__ = ["Element", "XMLConfigError", "parse_xml"]


class XMLConfigError(ValidationError):
    """A configuration that is not well-formed or not understood; names line and column."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"XML configuration, {where}{message}")
        self.line = line
        self.column = column


@dataclass
class Element:
    """One XML element: tag, attributes, text (direct text only), children, position."""

    tag: str
    attrib: dict[str, str]
    line: int
    column: int
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> Element | None:
        """The first child with ``tag``, or None."""
        return next((c for c in self.children if c.tag == tag), None)

    def to_xml(self) -> str:
        """This element written back as XML (what NXSDataWriter keeps in ``nexdatas_source``)."""
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in self.attrib.items())
        inner = escape(self.text) + "".join(c.to_xml() for c in self.children)
        return f"<{self.tag}{attrs}>{inner}</{self.tag}>" if inner else f"<{self.tag}{attrs}/>"

    def error(self, message: str) -> XMLConfigError:
        """An error that points at this element."""
        return XMLConfigError(f"<{self.tag}>: {message}", self.line, self.column + 1)


def parse_xml(text: str | bytes) -> Element:
    """Parse ``text`` into an :class:`Element` tree.

    Raises
    ------
    XMLConfigError
        Malformed XML (with line and column), or a DTD/entity declaration.
    """
    if isinstance(text, str):
        text = text.encode("utf-8")
    parser = expat.ParserCreate(encoding="utf-8")
    stack: list[Element] = []
    roots: list[Element] = []

    def start(tag: str, attrib: dict[str, str]) -> None:
        el = Element(tag, dict(attrib), parser.CurrentLineNumber, parser.CurrentColumnNumber)
        (stack[-1].children if stack else roots).append(el)
        stack.append(el)

    def end(tag: str) -> None:
        el = stack.pop()
        el.text = el.text.strip()

    def data(chunk: str) -> None:
        if stack:
            stack[-1].text += chunk

    def refuse_dtd(*_: object) -> None:
        raise XMLConfigError("document type declarations and entities are not allowed",
                             parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise XMLConfigError(expat.ErrorString(exc.code), exc.lineno, exc.offset + 1) from None
    if not roots:
        raise XMLConfigError("empty document", 1, 1)
    return roots[0]
