"""Tab completion for ``%pv``: verbs, options and addresses, from memory only.

A Matcher (IPython's API v2) that answers only on ``%pv`` lines and then suppresses
every other matcher, so jedi never evaluates anything there. Addresses come from the
:class:`~._names.NameIndex`; nothing here touches the network or calls device code.
"""

from __future__ import annotations

from typing import Any

from IPython.core.completer import SimpleCompletion, context_matcher

from ._names import NameIndex
from ._verbs import VERBS

__all__ = ["make_matcher"]

_ADDRESS_VERBS = {"get", "put", "monitor", "unmonitor", "info", "plot", "snapshot", "list"}


def candidates(words: list[str], current: str, names: NameIndex) -> list[str]:
    """What may replace ``current``, the word under the cursor, after ``words``.

    ``words`` are the complete words before it, starting with ``%pv``.
    """
    args = words[1:]
    if args[:1] == ["--debug"]:
        args = args[1:]
    if not args:
        return [v for v in VERBS if v.startswith(current)] + (["--debug"] if "--debug".startswith(current) else [])
    verb = args[0]
    if verb not in VERBS:
        return []
    if current.startswith("-"):
        parser = VERBS[verb].parser  # type: ignore[attr-defined]
        opts = [o for a in parser._actions for o in a.option_strings]
        return sorted(o for o in opts if o.startswith(current))
    if verb == "snapshot" and len(args) == 1:
        return [a for a in ("save", "diff", "restore") if a.startswith(current)]
    if verb == "snapshot" and len(args) == 2:
        return []  # the FILE: left to the user
    if verb in _ADDRESS_VERBS:
        if verb == "put" and len([a for a in args[1:] if not a.startswith("-")]) >= 1:
            return []  # the value
        return names.complete(current)
    return []


def make_matcher(names: NameIndex) -> Any:
    """A Matcher v2 for ``%pv`` lines, bound to ``names``."""

    @context_matcher(identifier="ctlshell.pv")  # type: ignore[misc]
    def pv_matcher(context: Any) -> dict[str, Any]:
        line = context.text_until_cursor
        stripped = line.lstrip()
        if not (stripped.startswith("%pv ") or stripped == "%pv"):
            return {"completions": [], "suppress": False}
        words = stripped.split()
        current = "" if line.endswith((" ", "\t")) else words.pop()
        if not words:  # the cursor is still on "%pv" itself: the magic matcher's job
            return {"completions": [], "suppress": False}
        token = context.token
        if not current.endswith(token):
            token = ""
        head = len(current) - len(token)  # the part of the word IPython does not replace
        found = candidates(words, current, names)
        return {"completions": [SimpleCompletion(c[head:], type="pv") for c in found],
                "matched_fragment": token, "suppress": True, "ordered": True}

    return pv_matcher
