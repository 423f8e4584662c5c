"""One-line errors: a :class:`~ctlshell.core.CtlshellError` is a message to the user,
not a program crash.

The handler prints ``ErrorType: sentence`` on stderr. The full traceback comes back
with ``%pv --debug VERB ...`` (for that error), ``%xmode Verbose`` (for all), or
``ctlshell.ipython.SHOW_TRACEBACKS = True``.
"""

from __future__ import annotations

import sys
from typing import Any

from ..core import CtlshellError

__all__ = ["install", "uninstall", "SETTINGS"]

#: ``{"tracebacks": True}`` shows every ctlshell error with its traceback
SETTINGS = {"tracebacks": False}
_saved: dict[int, tuple[Any, Any]] = {}


def _handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> None:
    verbose = str(getattr(getattr(shell, "InteractiveTB", None), "mode", "")).lower() == "verbose"
    if SETTINGS["tracebacks"] or verbose or getattr(value, "_ctlshell_debug", False):
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    else:
        print(f"{etype.__name__}: {value}", file=sys.stderr)


def install(shell: Any) -> None:
    """Show ctlshell errors in ``shell`` as one line (remembering any earlier custom handler)."""
    if id(shell) not in _saved:
        _saved[id(shell)] = (shell.custom_exceptions, shell.CustomTB)
    shell.set_custom_exc((CtlshellError,), _handler)


def uninstall(shell: Any) -> None:
    """Give ``shell`` back the custom exception handling it had before :func:`install`."""
    saved = _saved.pop(id(shell), None)
    if saved is not None:
        shell.custom_exceptions, shell.CustomTB = saved
