"""The names Tab completion offers: an index built from local sources only.

Sources, all in this process: names seen by ``%pv`` in this session, PV list files
(one address per line, ``#`` comments), and registered source callables (the hosted
PVs and the channel cache of the live session; a backend may register its own local
cache, e.g. the Tango database cache). Nothing here opens a socket or calls device
code; a source that raises is skipped.
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
        self._lock = threading.Lock()

    # -- feeding ------------------------------------------------------------------
    def _full(self, name: str) -> str:
        return name if "://" in name else f"{self.default_scheme}://{name}"

    def add(self, names: Iterable[str]) -> None:
        """Remember addresses seen in this session."""
        with self._lock:
            self._seen.update(self._full(n.strip()) for n in names if n and n.strip())

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
    def names(self) -> list[str]:
        """Every known address, sorted."""
        with self._lock:
            found = set(self._seen)
            for path, (mtime, names) in list(self._files.items()):
                try:
                    now = path.stat().st_mtime
                    if now != mtime:  # a local file changed: re-read it (no network)
                        names = self._read(path)
                        self._files[path] = (now, names)
                except OSError:
                    pass
                found.update(names)
            sources = list(self._sources)
        for source in sources:
            try:
                found.update(self._full(str(n)) for n in source())
            except Exception:  # a broken source must never break Tab
                log.debug("name source %r failed", source, exc_info=True)
        return sorted(found)

    def complete(self, prefix: str, limit: int = 500) -> list[str]:
        """Addresses starting with ``prefix``.

        A prefix without ``scheme://`` matches bare names of the default scheme and
        the scheme names themselves; the results are then bare too, as typed.
        """
        everything = self.names()
        if "://" in prefix:
            pool = everything
        else:
            head = f"{self.default_scheme}://"
            pool = [n[len(head):] for n in everything if n.startswith(head)]
            pool += [n for n in everything if not n.startswith(head)]
            pool += [f"{s}://" for s in ("ca", "pva", "tango", "local")]
            pool.sort()
        start = bisect.bisect_left(pool, prefix)
        out: list[str] = []
        for name in pool[start:]:
            if not name.startswith(prefix) or len(out) >= limit:
                break
            out.append(name)
        return out
