"""The interactive layer: ``%load_ext ctlshell`` and what it registers.

- the ``%pv`` magic (:mod:`._magics`, verbs parsed by :mod:`._verbs`),
- the ``%nxwrite`` magic (:mod:`._nxwrite`): NeXus recording through a writer device,
- Tab completion of ``%pv`` lines and verb string arguments from local caches
  (:mod:`._complete`, :mod:`._names`; Tango database names fetched in the background
  by :mod:`._tango_names`),
- text and HTML display of readings, channels and monitors (:mod:`._views`),
- one-line ctlshell errors (:mod:`._errors`),
- ``%ctlshell_profile NAME|DIR``, which runs the startup files of a profile
  (:mod:`ctlshell.profiles`).

``%unload_ext ctlshell`` removes all of it, stops the monitors it started and shuts
the ctlshell runtime down. Importing this package imports no protocol library and no
plotting library.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ._errors import SETTINGS
from ._names import NameIndex

__all__ = ["SETTINGS", "add_name_source", "load_ipython_extension", "run_profile", "unload_ipython_extension"]

_STATE: dict[int, dict[str, Any]] = {}
_SOURCES: list[Any] = []
_HELP_LINE = re.compile(r"^(\s*)%pv\s+(--debug\s+)?([A-Za-z_]+)\s*\?{1,2}\s*$")


def _verb_help_transform(lines: list[str]) -> list[str]:
    """``%pv VERB?`` -> ``%pv VERB --help`` (IPython would look up an object named VERB)."""
    return [_HELP_LINE.sub(r"\1%pv \3 --help", line.rstrip("\n")) + ("\n" if line.endswith("\n") else "")
            if _HELP_LINE.match(line) else line for line in lines]


def add_name_source(source: Any) -> None:
    """Offer more names to ``%pv`` Tab completion (for every shell, now and later).

    Parameters
    ----------
    source : callable
        ``source()`` returns address strings from a local cache (a backend's name
        index, the Tango database cache); it is called on every Tab press, so it must
        answer from memory, never from the network. It may also have ``wanted(prefix)``
        (start a background fetch for what is being completed, never wait) and
        ``refresh(timeout)`` (for ``%pv list --refresh``), as ``_tango_names.TangoNames``.
    """
    _SOURCES.append(source)
    for state in _STATE.values():
        state["names"].add_source(source)


def run_profile(shell: Any, spec: str) -> None:
    """Run the startup files of a profile (a name or a directory) in ``shell``'s namespace.

    Its ``ipython_config.py`` is not applied (a running shell has read its configuration).

    Raises
    ------
    ValidationError
        No such profile (see :func:`ctlshell.profiles.resolve`).
    """
    from .. import profiles

    profile = profiles.resolve(spec)
    for file in profile.startup_files():
        if file.suffix == ".ipy":
            shell.safe_execfile_ipy(str(file), raise_exceptions=True)
        else:
            shell.safe_execfile(str(file), shell.user_ns, raise_exceptions=True)


def load_ipython_extension(shell: Any) -> None:
    """Register ``%pv``, its completer, displays and one-line errors on ``shell``."""
    known = _STATE.get(id(shell))
    if known is not None and known["magics"].shell is shell:
        return
    _STATE.pop(id(shell), None)  # a shell that is gone left its id to this one
    from .. import api
    from . import _errors, _views
    from ._complete import make_matcher
    from ._magics import PVMagics

    from ._tango_names import TangoNames

    names = NameIndex()
    names.add_source(api.known_names)
    tango_names = TangoNames()
    names.add_source(tango_names)
    for source in _SOURCES:
        names.add_source(source)
    pv_list = os.environ.get("CTLSHELL_PV_LIST")
    if pv_list:
        try:
            names.add_file(pv_list)
        except OSError as exc:
            print(f"ctlshell: cannot read CTLSHELL_PV_LIST {pv_list!r}: {exc.strerror or exc}")
    magics = PVMagics(shell, names)
    shell.register_magics(magics)
    from ._nxwrite import NXWriteMagics

    nxwrite = NXWriteMagics(shell)
    shell.register_magics(nxwrite)
    from ._scans import ScanMagics

    shell.register_magics(ScanMagics(shell))

    def ctlshell_profile(line: str) -> None:
        """%ctlshell_profile NAME|DIR: run a ctlshell profile's startup files (default, demo, a site's) here."""
        run_profile(shell, line.strip() or "default")

    shell.register_magic_function(ctlshell_profile, magic_kind="line", magic_name="ctlshell_profile")
    matcher = make_matcher(names, lambda: shell.user_ns)
    shell.Completer.custom_matchers.append(matcher)
    shell.input_transformers_cleanup.append(_verb_help_transform)
    _views.register(shell)
    _errors.install(shell)
    _STATE[id(shell)] = {"magics": magics, "matcher": matcher, "names": names, "nxwrite": nxwrite,
                        "tango_names": tango_names}


def unload_ipython_extension(shell: Any) -> None:
    """Remove what :func:`load_ipython_extension` added and stop the ctlshell runtime."""
    from .. import api

    if _remove(shell):
        api.shutdown()


def _remove(shell: Any) -> bool:
    """Take the extension out of ``shell`` (monitors stopped, the session left running)."""
    state = _STATE.get(id(shell))
    if state is None or state["magics"].shell is not shell:
        return False
    _STATE.pop(id(shell))
    from . import _errors, _views

    magics = state["magics"]
    for mon in magics.monitors:
        mon.close()
    magics.monitors.clear()
    state["nxwrite"].shutdown()
    state["tango_names"].close()
    line_magics = shell.magics_manager.magics["line"]
    for name in ("pv", "nxwrite", "ctlshell_profile"):
        line_magics.pop(name, None)
    if state["matcher"] in shell.Completer.custom_matchers:
        shell.Completer.custom_matchers.remove(state["matcher"])
    if _verb_help_transform in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.remove(_verb_help_transform)
    _views.unregister(shell)
    _errors.uninstall(shell)
    return True
