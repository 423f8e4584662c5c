"""Tango names for Tab completion: the device list of each Tango database and the
members of each device, fetched on background threads and kept in memory.

A keypress only reads the cache and, through :meth:`TangoNames.wanted`, may start a
fetch (a new daemon thread) that later keypresses see: the first Tab on a
``tango://`` address asks the database once, a Tab after ``tango://dom/fam/member/``
asks that device once. pytango is imported on the fetching thread only, never on the
keypress or the runtime loop; ``%pv list --refresh`` fetches again.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable

__all__ = ["TangoNames"]

log = logging.getLogger(__name__)

_HOST = re.compile(r"^tango://(?:(?P<host>[A-Za-z0-9_.\-]+:\d{1,5})/)?(?P<rest>.*)$")
_MEMBER = re.compile(r"^(?P<device>[^/\s#>]+/[^/\s#>]+/[^/\s#>]+)(?:/|->)")

#: A fetch that failed (database or device unreachable) may be tried again after this
#: many seconds; a successful one stays until ``refresh``.
RETRY_AFTER = 10.0

#: A key of the cache: ("db", host) for a device list, ("dev", host, device) for members.
Key = tuple[str | None, ...]


def _has_tango_host() -> bool:
    """Whether the session names a default database in ``TANGO_HOST``. A tangorc file
    alone does not count: Debian's ships ``TANGO_HOST=vm:10000``, a host nobody means."""
    return bool(os.environ.get("TANGO_HOST"))


def _default_fetch(key: Key) -> list[str]:
    from ..backends.tango._dbnames import list_devices, list_members

    if key[0] == "db":
        return list_devices(key[1])
    return list_members(key[1], str(key[2]))


def _describe(key: Key) -> str:
    where = key[1] or "TANGO_HOST"
    return f"the database {where}" if key[0] == "db" else f"device {key[2]} (database {where})"


def _one_line(exc: BaseException) -> str:
    """pytango's DevFailed carries a stack of errors; its first description is the cause."""
    args = getattr(exc, "args", ())
    desc = getattr(args[0], "desc", None) if args else None
    text = str(desc if desc else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class TangoNames:
    """The cache; call it for the names it holds (a :class:`~._names.NameIndex` source).

    Parameters
    ----------
    fetch : callable, optional
        ``fetch(key)`` returns addresses; blocking, run on a background thread.
    """

    def __init__(self, fetch: Callable[[Key], list[str]] = _default_fetch) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._names: dict[Key, tuple[str, ...]] = {}
        self._devices: dict[str | None, frozenset[str]] = {}
        self._running: dict[Key, threading.Thread] = {}
        self._failed: dict[Key, float] = {}  # key -> when
        self._errors: dict[Key, str] = {}  # key -> why (one line)
        self._closed = False

    def __call__(self) -> list[str]:
        """Every cached address (memory only)."""
        with self._lock:
            return [n for names in self._names.values() for n in names]

    def wanted(self, prefix: str) -> None:
        """Start the fetches that ``prefix`` (the text being completed) needs; never waits."""
        m = _HOST.match(prefix)
        if m is None or "#dbase=no" in prefix:  # no database behind a #dbase=no address
            return
        host = m.group("host")
        if host is None and not _has_tango_host():
            return  # no database named: ask none
        self._start(("db", host))
        member = _MEMBER.match(m.group("rest"))
        if member is not None:
            device = member.group("device").lower()
            with self._lock:
                known = device in self._devices.get(host, frozenset())
            if known:
                self._start(("dev", host, device))

    def refresh(self, timeout: float | None = None) -> list[str]:
        """Fetch every database and device asked for so far again (the ``TANGO_HOST``
        database when none was); wait up to ``timeout``. Returns one line per failure."""
        with self._lock:
            keys = list(dict.fromkeys([*self._names, *self._running]))  # a running fetch counts too
            if not keys and _has_tango_host():
                keys = [("db", None)]
            for key in keys:
                self._names.pop(key, None)
                self._errors.pop(key, None)
        for key in keys:
            self._start(key)
        self.wait(timeout)
        with self._lock:
            return [f"Tango names of {_describe(k)}: {self._errors[k]}" for k in keys if k in self._errors]

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running fetches; True when none is left."""
        with self._lock:
            threads = list(self._running.values())
        for thread in threads:
            thread.join(timeout)
        with self._lock:
            return not self._running

    def close(self) -> None:
        """Start no more fetches (a running one ends on its own: pytango cannot be interrupted)."""
        self._closed = True

    def _start(self, key: Key) -> None:
        with self._lock:
            if self._closed or key in self._running:
                return
            if key in self._names:
                failed = self._failed.get(key)
                if failed is None or time.monotonic() - failed < RETRY_AFTER:
                    return
            thread = threading.Thread(target=self._run, args=(key,), daemon=True,
                                      name=f"ctlshell-tango-names-{key[0]}")
            self._running[key] = thread
        thread.start()

    def _run(self, key: Key) -> None:
        failed = None
        try:
            names = tuple(self._fetch(key))
        except Exception as exc:  # an unreachable database or device: nothing to offer for now
            log.debug("fetching Tango names %r failed: %s", key, exc)
            names, failed = (), time.monotonic()
            with self._lock:
                self._errors[key] = _one_line(exc)
        with self._lock:
            self._names[key] = names
            if failed is None:
                self._failed.pop(key, None)
                self._errors.pop(key, None)
            else:
                self._failed[key] = failed
            if key[0] == "db":
                head = len(f"tango://{key[1]}/") if key[1] else len("tango://")
                self._devices[key[1]] = frozenset(n[head:] for n in names)
            self._running.pop(key, None)
