"""The lazy backend registry: scheme -> backend, built on first use.

Entries are ``"module:Class"`` strings (or zero-argument factories), so importing
ctlshell imports no protocol library; a scheme whose library is missing raises
:class:`BackendUnavailableError` with the install hint when it is used.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping

from ._backend import Backend
from ._errors import AddressError, BackendUnavailableError

__all__ = ["BackendRegistry", "INSTALL_HINTS"]

Entry = str | Callable[[], Backend]

#: Each hint names an extra of ``pyproject.toml`` holding the library it names
#: (tests/unit/test_config_registry.py reads both and holds them together).
INSTALL_HINTS = {
    "ca": "pip install 'ctlshell[ca]' (needs aioca)",
    "pva": "pip install 'ctlshell[pva]' (needs p4p)",
    "tango": "pip install 'ctlshell[tango]' (needs pytango)",
}


class BackendRegistry:
    """Maps schemes to backends, creating each on first use.

    Parameters
    ----------
    entries : mapping of scheme to ``"module:Class"`` or a factory
    on_load : callable, optional
        ``on_load(scheme, backend)`` once each backend is created, before any use of it.
    """

    def __init__(self, entries: Mapping[str, Entry],
                 on_load: Callable[[str, Backend], None] | None = None) -> None:
        self._entries = dict(entries)
        self._on_load = on_load
        self._backends: dict[str, Backend] = {}
        self._lock = threading.RLock()  # used from the loop and from callers' threads

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def loaded(self) -> dict[str, Backend]:
        return dict(self._backends)

    def get(self, scheme: str) -> Backend:
        """The backend for ``scheme``.

        Raises
        ------
        AddressError
            No backend is registered for the scheme.
        BackendUnavailableError
            Its library cannot be imported; the message says how to install it.
        """
        backend = self._backends.get(scheme)
        if backend is not None:
            return backend
        with self._lock:
            return self._create(scheme)

    def _create(self, scheme: str) -> Backend:
        backend = self._backends.get(scheme)
        if backend is not None:
            return backend
        entry = self._entries.get(scheme)
        if entry is None:
            raise AddressError(f"no backend serves {scheme}:// in this session (known: {', '.join(self._entries)})")
        if isinstance(entry, str):
            module_name, _, attr = entry.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                hint = INSTALL_HINTS.get(scheme, f"install the library {scheme}:// needs")
                raise BackendUnavailableError(
                    f"{scheme}:// needs a library that is not installed ({exc.name or exc}): {hint}"
                ) from exc
            backend = getattr(module, attr)()
        else:
            backend = entry()
        if self._on_load is not None:
            self._on_load(scheme, backend)
        self._backends[scheme] = backend
        return backend
