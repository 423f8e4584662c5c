"""What every property value has: :class:`KaraboValue` (a :class:`Timestamp` and the
descriptor) and the helpers the value kinds share (``unwrap``, the newest timestamp).
Pure: knows no proxy and no server.
"""

from __future__ import annotations

import time
from typing import Any

from ._timestamp import Timestamp

__all__ = ["BOOL_CHOICES", "KaraboValue", "unwrap"]


def unwrap(x: Any) -> Any:
    """The pint quantity (or bare value) inside a :class:`KaraboValue`; anything else as is."""
    return x._bare() if isinstance(x, KaraboValue) else x


def _newest(*operands: Any) -> Timestamp | None:
    stamps = [x.timestamp for x in operands if isinstance(x, KaraboValue) and x.timestamp is not None]
    return max(stamps) if stamps else None


#: The choices of an enum that is a boolean (a Daemon's boolean item).
BOOL_CHOICES = ("False", "True")


def _stamp(timestamp: Any) -> Timestamp | None:
    if timestamp is None or isinstance(timestamp, Timestamp):
        return timestamp
    return Timestamp.from_seconds(float(timestamp))


class KaraboValue:
    """What every property value has: ``timestamp`` (a :class:`Timestamp` or None) and
    ``descriptor`` (only on values read from a proxy)."""

    timestamp: Timestamp | None
    descriptor: Any
    _source: tuple[Any, str] | None
    #: of the reading this value came from (None, "" for a value not read from a device;
    #: a failed read: INVALID and the device's error)
    severity: Any
    status: str

    def _meta(self, timestamp: Any, descriptor: Any) -> None:
        object.__setattr__(self, "timestamp", _stamp(timestamp))
        object.__setattr__(self, "descriptor", descriptor)
        object.__setattr__(self, "_source", None)
        object.__setattr__(self, "severity", None)
        object.__setattr__(self, "status", "")

    def _bare(self) -> Any:
        raise NotImplementedError

    @property
    def units(self) -> Any:
        """None: only numbers have units."""
        return None

    @property
    def quantity(self) -> Any:
        """The bare value."""
        return self._bare()

    def getdoc(self) -> str:
        """The property's description (Karabo's ``d.x.getdoc()``)."""
        return "" if self.descriptor is None else str(self.descriptor.description)

    def _stamp_text(self) -> str:
        if self.timestamp is None:
            return "no timestamp"
        t = self.timestamp.toTimestamp()
        return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int((t % 1) * 1000):03d}"

    def _key_text(self) -> str:
        return f" {self.descriptor.key}" if self.descriptor is not None else ""
