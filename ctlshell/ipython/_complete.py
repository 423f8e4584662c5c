"""Tab completion of addresses and enum choices, from memory only.

A Matcher (IPython's API v2) that answers on ``%pv`` lines and inside the string
arguments of the verbs (``get("DEMO:S``, ``ctlshell.put("DEMO:SHUTTER", "O``), and
then suppresses every other matcher, so jedi never evaluates anything there and no
Python name lands in an address. Addresses come from the :class:`~._names.NameIndex`,
enum choices from ``api.known_choices``; nothing here touches the network or calls
device code.

IPython suppresses the other matchers only for a result that has completions
(``has_any_completions`` in ``IPython.core.completer``): when nothing matches, the
result holds one empty completion, which changes nothing and which the terminal
front end drops (``IPython.terminal.ptutils`` skips empty texts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from IPython.core.completer import SimpleCompletion, context_matcher

from .. import api
from ._calls import find_string_argument, resolve
from ._names import NameIndex
from ._verbs import VERBS

__all__ = ["make_matcher"]

_ADDRESS_VERBS = {"get", "put", "monitor", "unmonitor", "info", "plot", "snapshot", "list"}
#: Python verbs whose first argument is an address (``put``'s second is its value).
_PY_VERBS = (api.get, api.put, api.monitor, api.info, api.host, api.describe, api.command, api.unhost)
#: The text of the one empty completion that makes IPython suppress the other matchers.
_NOTHING = ""


def choices(address: str, current: str) -> list[str]:
    """The enum choices of ``address`` known here that start with ``current``."""
    known = api.known_choices(address) or ()
    return [c for c in known if c.startswith(current)]


def candidates(words: list[str], current: str, names: NameIndex) -> list[str] | None:
    """What may replace ``current``, the word under the cursor, after ``words``.

    ``words`` are the complete words before it, starting with ``%pv``. None: not
    ctlshell's to complete (a file name, say), the other matchers may.
    """
    args = words[1:]
    if args[:1] == ["--debug"]:
        args = args[1:]
    if not args:
        return [v for v in VERBS if v.startswith(current)] + (["--debug"] if "--debug".startswith(current) else [])
    verb = args[0]
    if verb not in VERBS:
        return None
    if current.startswith("-"):
        parser = VERBS[verb].parser  # type: ignore[attr-defined]  # @magic_arguments sets .parser
        opts = [o for a in parser._actions for o in a.option_strings]
        return sorted(o for o in opts if o.startswith(current))
    if verb == "snapshot" and len(args) == 1:
        return [a for a in ("save", "diff", "restore") if a.startswith(current)]
    if verb == "snapshot" and len(args) == 2:
        return None  # the FILE: left to the file matcher
    if verb in _ADDRESS_VERBS:
        positional = [a for a in args[1:] if not a.startswith("-")]
        if verb == "put" and positional:
            return choices(positional[0], current) if len(positional) == 1 else []  # the value
        return names.complete(current)
    return None


def string_candidates(text_until_cursor: str, namespace: Mapping[str, Any],
                      names: NameIndex) -> tuple[str, list[str]] | None:
    """``(fragment, candidates)`` when the cursor is in a string argument of a verb
    call (``get("DEMO:S``), else None."""
    arg = find_string_argument(text_until_cursor)
    if arg is None:
        return None
    verb = resolve(arg.callee, namespace, _PY_VERBS)
    if verb is None:
        return None
    if arg.index == 0:
        return arg.fragment, names.complete(arg.fragment)
    if verb is api.put:
        return arg.fragment, choices(arg.first, arg.fragment)
    return arg.fragment, []  # another string of a verb: never a Python name either


def _pv_line(line: str, names: NameIndex) -> tuple[str, list[str]] | None:
    """``(word under the cursor, candidates)`` on a ``%pv`` line, else None."""
    stripped = line.lstrip()
    if not (stripped.startswith("%pv ") or stripped == "%pv"):
        return None
    words = stripped.split()
    current = "" if line.endswith((" ", "\t")) else words.pop()
    if not words:  # the cursor is still on "%pv" itself: the magic matcher's job
        return None
    found = candidates(words, current, names)
    return None if found is None else (current, found)


def make_matcher(names: NameIndex, namespace: Callable[[], Mapping[str, Any]] = dict) -> Any:
    """A Matcher v2 for ``%pv`` lines and verb string arguments, bound to ``names``.

    ``namespace()`` returns the user's namespace, where verb names like ``get`` are
    looked up (with dictionary look-ups only).
    """

    @context_matcher(identifier="ctlshell.pv")
    def pv_matcher(context: Any) -> dict[str, Any]:
        line = context.text_until_cursor
        answer = _pv_line(line, names)
        if answer is None:
            answer = string_candidates(line, namespace(), names)
        if answer is None:
            return {"completions": [], "suppress": False}
        current, found = answer
        token = context.token
        if not current.endswith(token):
            token = ""
        head = len(current) - len(token)  # the part of the word IPython does not replace
        completions = [SimpleCompletion(c[head:], type="pv") for c in found]
        if not completions:  # claim the place anyway, so no other matcher offers Python names
            completions, token = [SimpleCompletion(_NOTHING, type="pv")], ""
        return {"completions": completions, "matched_fragment": token, "suppress": True, "ordered": True}

    return pv_matcher
