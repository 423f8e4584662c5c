"""The state file: one SQLite database holding the write journal and persisted values.

The journal gets one row per accepted client write (time, protocol, client host and
user, PV, old and new value), committed at once. Persisted daemon items are saved
newest-value-per-key, flushed within ``flush_period`` seconds and at close, so a
fast-changing persisted item costs one row update per period, not one per change.
Values are stored as JSON (arrays as lists). Thread-safe. Knows SQLite, not servers.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core import Client, Reading, SoftPV, ValidationError

__all__ = ["JournalEntry", "StateFile"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL, protocol TEXT, host TEXT, user TEXT,
    pv TEXT NOT NULL, old TEXT, new TEXT
);
CREATE TABLE IF NOT EXISTS persist (
    scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, time REAL NOT NULL,
    PRIMARY KEY (scope, key)
);
"""


_COLUMNS = {"journal": {"time", "protocol", "host", "user", "pv", "old", "new"},
            "persist": {"scope", "key", "value", "time"}}


def _to_json(value: Any) -> str:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    return json.dumps(value)  # NaN and Infinity as Python's json writes and reads them


def _from_json(text: str) -> Any:
    return json.loads(text)


@dataclass(frozen=True)
class JournalEntry:
    """One accepted client write."""

    time: float
    protocol: str
    host: str
    user: str
    pv: str
    old: Any
    new: Any

    def __str__(self) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.time))
        return f"{stamp}  {self.user or '?'}@{self.host or '?'} ({self.protocol})  {self.pv}: {self.old!r} -> {self.new!r}"


class StateFile:
    """The journal and persisted values of a session or a served daemon.

    Parameters
    ----------
    path : str or Path
        The SQLite file (created if missing), or ``":memory:"`` for a journal that
        lives as long as the process.
    flush_period : float
        Longest delay, seconds, before a persisted value reaches the file.

    Raises
    ------
    ValidationError
        The file cannot be opened or is not a ctlshell state file.
    """

    def __init__(self, path: str | Path = ":memory:", flush_period: float = 1.0) -> None:
        self.path = str(path)
        self.flush_period = float(flush_period)
        if self.path != ":memory:":
            parent = Path(self.path).expanduser().resolve().parent
            if not parent.is_dir():
                raise ValidationError(f"state file {self.path}: folder {parent} does not exist")
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            for table, wanted in _COLUMNS.items():  # checked before anything is written
                have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                if have and not wanted <= have:
                    self._db.close()
                    raise ValidationError(f"state file {self.path} is not a ctlshell state file: its "
                                          f"{table!r} table lacks {sorted(wanted - have)}")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ValidationError(f"state file {self.path} cannot be used: {exc}") from None
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], tuple[str, float]] = {}
        self._timer: threading.Timer | None = None
        self.closed = False

    # -- the journal ---------------------------------------------------------------
    def record(self, pv: SoftPV, client: Client, old: Reading, new: Reading) -> None:
        """Journal one accepted write (a :data:`WriteHook`)."""
        with self._lock:
            if self.closed:
                return
            self._db.execute(
                "INSERT INTO journal (time, protocol, host, user, pv, old, new) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (new.timestamp, client.protocol, client.host, client.user, pv.name,
                 _to_json(old.value), _to_json(new.value)))

    def journal(self, pv: str | None = None, limit: int | None = None) -> list[JournalEntry]:
        """Accepted writes, oldest first; only ``pv``'s when given; the last ``limit``."""
        query = "SELECT time, protocol, host, user, pv, old, new FROM journal"
        args: list[object] = []
        if pv is not None:
            query += " WHERE pv = ?"
            args.append(pv)
        query += " ORDER BY id DESC"
        if limit is not None:
            query += " LIMIT ?"
            args.append(int(limit))
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [JournalEntry(t, p, h, u, n, _from_json(o), _from_json(w)) for t, p, h, u, n, o, w in reversed(rows)]

    # -- persisted values --------------------------------------------------------------
    def save(self, scope: str, key: str, value: Any, timestamp: float) -> None:
        """Remember ``value`` for ``scope``/``key``; written within ``flush_period``."""
        text = _to_json(value)
        with self._lock:
            if self.closed:
                return
            self._pending[(scope, key)] = (text, timestamp)
            if self._timer is None:
                self._timer = threading.Timer(self.flush_period, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Write every pending persisted value now."""
        with self._lock:
            self._timer = None
            pending, self._pending = self._pending, {}
            if not pending or self.closed:
                return
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO persist (scope, key, value, time) VALUES (?, ?, ?, ?)",
                [(scope, key, text, stamp) for (scope, key), (text, stamp) in pending.items()])
            self._db.execute("COMMIT")

    def load(self, scope: str) -> dict[str, tuple[Any, float]]:
        """Persisted ``{key: (value, timestamp)}`` of ``scope``."""
        with self._lock:
            rows = self._db.execute("SELECT key, value, time FROM persist WHERE scope = ?", (scope,)).fetchall()
        return {key: (_from_json(text), stamp) for key, text, stamp in rows}

    def close(self) -> None:
        """Flush and close. Idempotent."""
        if self.closed:
            return
        timer = self._timer
        if timer is not None:
            timer.cancel()
        self.flush()
        with self._lock:
            self.closed = True
            self._db.close()

    def __repr__(self) -> str:
        return f"<StateFile {self.path}>"
