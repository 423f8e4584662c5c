"""Karabo's :class:`Timestamp`: integer attoseconds since the epoch and a train id.

As ``karabo.native.Timestamp`` (2.21): made from nothing (now), a float (POSIX
seconds), an int (attoseconds), another Timestamp or a date string (``dateutil``;
local time when it names no zone); compares only with Timestamps (``==`` with
anything else is False, ``<`` raises ``TypeError``); ``repr`` is ISO 8601 in UTC,
``str`` in local time; ``t1 - t2`` and ``t + 5`` are float seconds. A ctlshell value
read from a device carries one: ``dev.x.timestamp.toTimestamp()``, ``.tid`` (the
server's train id where it has one, else 0). Pure.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from functools import total_ordering
from typing import Any

import numpy as np

__all__ = ["RESOLUTION", "Timestamp", "days_ago", "hours_ago", "minutes_ago"]

#: Karabo's resolution: attoseconds.
RESOLUTION = 10**18


@total_ordering
class Timestamp:
    """A point in time with attosecond resolution and a train id.

    Parameters
    ----------
    date : None, float, int, Timestamp or str
        None: now; float: POSIX seconds; int: attoseconds since the epoch; str: parsed
        by ``dateutil`` (local time when no zone is given).
    """

    __slots__ = ("time", "_tid")

    def __init__(self, date: Any = None) -> None:
        self._tid = np.uint64(0)
        if date is None:
            self.time = time.time_ns() * 10**9
        elif isinstance(date, Timestamp):
            self.time = date.time
        elif isinstance(date, float):
            self.time = int(date * RESOLUTION)
        elif isinstance(date, (int, np.integer)) and not isinstance(date, bool):
            self.time = int(date)
        elif isinstance(date, str):
            import dateutil.parser
            import dateutil.tz

            parsed = dateutil.parser.parse(date)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dateutil.tz.tzlocal())
            self.time = int(parsed.timestamp() * RESOLUTION)
        else:
            raise TypeError(f"a Timestamp is made from None, a float, an int, a Timestamp or a date string, "
                            f"not {date!r}")

    @classmethod
    def from_seconds(cls, seconds: float, tid: int = 0) -> Timestamp:
        """From POSIX seconds, to the nanosecond (no float noise below it)."""
        whole = int(seconds // 1)
        out = cls(whole * RESOLUTION + int(round((seconds - whole) * 1e9)) * 10**9)
        out.tid = tid
        return out

    @classmethod
    def fromHashAttributes(cls, attrs: dict[str, Any]) -> Timestamp | None:  # noqa: N802 (Karabo's name)
        """From Hash attributes ``sec``, ``frac``, ``tid``; None without ``sec``."""
        if "sec" not in attrs:
            return None
        out = cls(int(attrs["frac"]) + int(attrs["sec"]) * RESOLUTION)
        out.tid = attrs.get("tid", 0)
        return out

    def toHashAttributes(self, hash_: Any) -> None:  # noqa: N802
        """Set ``sec``, ``frac``, ``tid`` on every top-level key of ``hash_``."""
        for key in hash_:
            for name, value in self.toDict().items():
                hash_[key, name] = value

    @property
    def time_frac(self) -> np.uint64:
        """The fraction of the second, in attoseconds."""
        return np.uint64(self.time % RESOLUTION)

    @property
    def time_sec(self) -> np.uint64:
        """Whole seconds since the epoch."""
        return np.uint64(self.time // RESOLUTION)

    @property
    def tid(self) -> np.uint64:
        """The train id (0 when the source has none)."""
        return self._tid

    @tid.setter
    def tid(self, value: Any) -> None:
        self._tid = np.uint64(value)

    def toDict(self) -> dict[str, np.uint64]:  # noqa: N802
        return {"frac": self.time_frac, "sec": self.time_sec, "tid": self.tid}

    def toTimestamp(self) -> float:  # noqa: N802
        """POSIX seconds (a float)."""
        return self.time / RESOLUTION

    def toLocal(self, sep: str = "T", timespec: str = "auto") -> str:  # noqa: N802
        """ISO 8601 in the local time zone."""
        return datetime.fromtimestamp(self.toTimestamp()).isoformat(sep, timespec=timespec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timestamp) and self.time == other.time

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, Timestamp):
            return NotImplemented
        return self.time < other.time

    def __hash__(self) -> int:
        return hash(self.time)

    def __add__(self, other: Any) -> float:
        if isinstance(other, Timestamp):
            return self.toTimestamp() + other.toTimestamp()
        if isinstance(other, (float, int)):
            return self.toTimestamp() + other
        return NotImplemented

    def __sub__(self, other: Any) -> float:
        if isinstance(other, Timestamp):
            return self.toTimestamp() - other.toTimestamp()
        if isinstance(other, (float, int)):
            return self.toTimestamp() - other
        return NotImplemented

    def __str__(self) -> str:
        return self.toLocal()

    def __repr__(self) -> str:
        stamp = datetime.fromtimestamp(self.toTimestamp(), timezone.utc).replace(tzinfo=None)
        return stamp.isoformat() + " UTC"


def minutes_ago(n: float = 1) -> Timestamp:
    """The time ``n`` minutes ago."""
    return Timestamp(Timestamp() - 60 * n)


def hours_ago(n: float = 1) -> Timestamp:
    """The time ``n`` hours ago."""
    return Timestamp(Timestamp() - 3600 * n)


def days_ago(n: float = 1) -> Timestamp:
    """The time ``n`` days ago."""
    return Timestamp(Timestamp() - 86400 * n)
