"""The names Tab completion offers: an index built from local sources only.

Sources, all in this process: names seen by ``%pv`` in this session, PV list files
(one address per line, ``#`` comments), and registered source callables (the hosted
PVs and the channel cache of the live session; a backend may register its own local
cache, e.g. the Tango database cache). Nothing here opens a socket or calls device
code; a source that raises is skipped. A source may also have ``wanted(prefix)``
(told what is being completed, it may start a background fetch but never waits) and
``refresh(timeout)`` (fetch again, for ``%pv list --refresh``).
"""

from __future__ import annotations

import bisect
import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["NameIndex", "NameSource"]

log = logging.getLogger(__name__)

#: A callable returning address strings; must answer from memory, never the network.
NameSource = Callable[[], Iterable[str]]


class NameIndex:
    """A sorted set of addresses with prefix search.

    Parameters
    ----------
    default_scheme : str
        Bare names in lists and prefix queries without ``scheme://`` use this scheme.
    """

    def __init__(self, default_scheme: str = "ca") -> None:
        self.default_scheme = default_scheme
        self._seen: set[str] = set()
        self._files: dict[Path, tuple[float, list[str]]] = {}
        self._sources: list[NameSource] = []
        self._built: tuple[list[str], list[str]] | None = None
        self._lock = threading.Lock()

    # -- feeding ------------------------------------------------------------------
    def _full(self, name: str) -> str:
        return name if "://" in name else f"{self.default_scheme}://{name}"

    def add(self, names: Iterable[str]) -> None:
        """Remember addresses seen in this session."""
        new = {self._full(n.strip()) for n in names if n and n.strip()}
        with self._lock:
            fresh = new - self._seen
            if fresh:
                self._seen.update(fresh)
                self._built = None
        for name in fresh:  # a Tango address used: its database's names are fetched for the next Tab
            self._tell(name)

    def add_file(self, path: str | os.PathLike[str]) -> int:
        """Use a PV list file (one address per line); returns how many names it holds.

        Raises
        ------
        OSError
            The file cannot be read (checked now, so a typo is reported at once).
        """
        p = Path(path).expanduser().resolve()
        names = self._read(p)
        with self._lock:
            self._files[p] = (p.stat().st_mtime, names)
            self._built = None
        return len(names)

    def add_source(self, source: NameSource) -> None:
        """Add a callable that lists addresses from a local cache."""
        with self._lock:
            self._sources.append(source)

    def remove_source(self, source: NameSource) -> None:
        with self._lock:
            if source in self._sources:
                self._sources.remove(source)

    def _read(self, path: Path) -> list[str]:
        text = path.read_text(encoding="utf-8", errors="replace")
        out = []
        for line in text.splitlines():
            name = line.split("#", 1)[0].strip()
            if name:
                out.append(self._full(name))
        return out

    # -- querying -----------------------------------------------------------------
    def _static(self) -> tuple[list[str], list[str]]:
        """Sorted seen and file names, full and as typed (bare for the default scheme).

        Rebuilt only when a name was added or a file changed; a Tab press on an
        unchanged index only searches (bisect), so 10 000 names cost well under 1 ms.
        """
        with self._lock:
            for path, (mtime, _) in list(self._files.items()):
                try:
                    now = path.stat().st_mtime
                    if now != mtime:  # a local file changed: re-read it (no network)
                        self._files[path] = (now, self._read(path))
                        self._built = None
                except OSError:
                    pass
            if self._built is None:
                full: set[str] = set(self._seen)
                for _, names in self._files.values():
                    full.update(names)
                self._built = (sorted(full), sorted(self._typed(full)))
            return self._built

    def _typed(self, names: Iterable[str]) -> set[str]:
        """Each name as a user types it: bare for the default scheme, full otherwise,
        plus the scheme prefixes themselves."""
        head = f"{self.default_scheme}://"
        out = {n[len(head):] if n.startswith(head) else n for n in names}
        out.update(f"{s}://" for s in ("ca", "pva", "tango", "local"))
        return out

    def _dynamic(self) -> set[str]:
        with self._lock:
            sources = list(self._sources)
        found: set[str] = set()
        for source in sources:
            try:
                found.update(self._full(str(n)) for n in source())
            except Exception:  # a broken source must never break Tab
                log.debug("name source %r failed", source, exc_info=True)
        return found

    def _tell(self, prefix: str) -> None:
        """Tell the sources that can fetch in the background what is being completed."""
        with self._lock:
            sources = list(self._sources)
        for source in sources:
            wanted = getattr(source, "wanted", None)
            if wanted is not None:
                try:
                    wanted(prefix)
                except Exception:
                    log.debug("name source %r failed", source, exc_info=True)

    def refresh(self, timeout: float | None = None) -> list[str]:
        """Have the sources that fetch in the background fetch again (waits up to
        ``timeout``); returns what failed, one line each."""
        with self._lock:
            sources = list(self._sources)
        failures: list[str] = []
        for source in sources:
            refresh = getattr(source, "refresh", None)
            if refresh is not None:
                failures.extend(refresh(timeout) or ())
        return failures

    def names(self) -> list[str]:
        """Every known address, sorted."""
        full, _ = self._static()
        return sorted(set(full) | self._dynamic())

    def complete(self, prefix: str, limit: int = 500) -> list[str]:
        """Addresses starting with ``prefix``.

        A prefix without ``scheme://`` matches bare names of the default scheme and
        the scheme names themselves; the results are then bare too, as typed.
        """
        self._tell(prefix)
        full, typed = self._static()
        dynamic = self._dynamic()
        if "://" in prefix:
            pool, extra = full, dynamic
        else:
            pool, extra = typed, self._typed(dynamic)
        found = _prefixed(pool, prefix, limit)
        found.update(n for n in extra if n.startswith(prefix))
        return sorted(found)[:limit]


def _prefixed(pool: list[str], prefix: str, limit: int) -> set[str]:
    """The first ``limit`` names of the sorted ``pool`` that start with ``prefix``."""
    out: set[str] = set()
    for name in pool[bisect.bisect_left(pool, prefix):]:
        if not name.startswith(prefix) or len(out) >= limit:
            break
        out.add(name)
    return out
