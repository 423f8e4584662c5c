"""Where the cursor is in Python code, for completion: inside a string literal that is
an argument of a ctlshell verb call (``get("DEMO:S``, ``ctlshell.put("X", "O``).

Pure text parsing plus dictionary look-ups in the user's namespace: the callee's
dotted name is resolved only through ``dict`` and module ``__dict__`` look-ups (no
``getattr``, no property, no module ``__getattr__``), so no user or device code runs.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["StringArgument", "find_string_argument", "resolve"]

# callee( ["first",] "fragment<cursor>: one closed string argument at most; the callee a
# dotted name of its own, not the method of an expression such as {}.get("X")
_CALL = re.compile(
    r"""(?<![\w.)\]}'"])(?P<callee>[A-Za-z_][\w.]*)\(\s*"""
    r"""(?:(?P<q0>['"])(?P<first>[^'"\\\n]*)(?P=q0)\s*,\s*)?"""
    r"""[rRuU]?(?P<q>['"])(?P<fragment>[^'"\\\n]*)$"""
)


@dataclass(frozen=True)
class StringArgument:
    """A string literal being typed as an argument of a call.

    Attributes
    ----------
    callee : str
        The dotted name called, as written (``get``, ``ctlshell.api.put``).
    index : int
        0 for the first argument, 1 for the second (after a closed string literal).
    fragment : str
        The literal's text up to the cursor.
    first : str
        The first argument's text when ``index`` is 1, else "".
    """

    callee: str
    index: int
    fragment: str
    first: str = ""


def find_string_argument(text_until_cursor: str) -> StringArgument | None:
    """The string argument the cursor is in, or None (not in a call's string literal).

    Only the cursor's own line counts; escapes and nested quotes are not followed.
    """
    line = text_until_cursor.rsplit("\n", 1)[-1]
    m = _CALL.search(line)
    if m is None:
        return None
    index = 0 if m.group("q0") is None else 1
    return StringArgument(m.group("callee"), index, m.group("fragment"), m.group("first") or "")


def resolve(callee: str, namespace: Mapping[str, Any], wanted: Iterable[Any]) -> Any:
    """The object of ``wanted`` that ``callee`` names in ``namespace``, or None.

    ``a.b.c`` is looked up as ``namespace["a"]``, then in module dictionaries only:
    an attribute of any other object (which might be a property) is never read.
    """
    first, *rest = callee.split(".")
    obj = namespace.get(first)
    for part in rest:
        if not isinstance(obj, types.ModuleType):
            return None
        obj = vars(obj).get(part)
    for candidate in wanted:
        if obj is candidate:
            return candidate
    return None
