"""Bytes of a CA monitor update (EVENT_ADD response) for a double PV, without caproto.

The hosted server's update lane (:mod:`._ca_lane`) sends the updates of plain double
subscriptions itself; this module encodes them. Only the two payloads the lane
serves: ``DBR_DOUBLE`` (6) and ``DBR_TIME_DOUBLE`` (20). Layouts are those of the CA
protocol specification (and of caproto's ``_dbr.py``): a 16-byte header (an extended
one of 24 bytes when the payload or the element count do not fit 16 bits), then for
TIME_DOUBLE ``status, severity (int16), seconds, nanoseconds (uint32) since the EPICS
epoch, a pad (int32)``, then the big-endian doubles, padded to a multiple of 8 bytes.
``tests/unit/test_ca_wire.py`` compares every shape with caproto's own encoding.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
from caproto import AlarmStatus

__all__ = ["DBR_DOUBLE", "DBR_TIME_DOUBLE", "LANE_TYPES", "alarm_status", "event_header", "payload"]

DBR_DOUBLE, DBR_TIME_DOUBLE = 6, 20
#: the request types the lane encodes
LANE_TYPES = frozenset((DBR_DOUBLE, DBR_TIME_DOUBLE))
#: seconds from the POSIX epoch to the EPICS epoch (1990-01-01 UTC)
EPICS_EPOCH = 631152000
_EVENT_ADD = 1
_ECA_NORMAL = 1
_HEADER = struct.Struct(">HHHHII")
_EXTENDED = struct.Struct(">HHHHIIII")
_TIME = struct.Struct(">hhIIi")
_ONE = struct.Struct(">d")
_PAD = [b"\0" * n for n in range(8)]


def alarm_status(status: str) -> int:
    """A reading's status text as CA's alarm status number (``write_reading`` uses it too)."""
    member = AlarmStatus.__members__.get(status)
    if member is not None:
        return int(member)
    return int(AlarmStatus.NO_ALARM if not status else AlarmStatus.SOFT)


def _stamp(timestamp: float) -> tuple[int, int]:
    since = timestamp - EPICS_EPOCH
    seconds = int(since // 1)
    nanos = int((since - seconds) * 1e9)
    return seconds, min(nanos, 999_999_999)


def payload(data_type: int, value: Any, timestamp: float, severity: int, status: int,
            data_count: int) -> tuple[bytes, int]:
    """The padded payload of an update and the element count its header declares.

    ``data_count`` is the subscription's (0: as many as the value has); a value longer
    than it is cut, as caproto does.
    """
    if isinstance(value, np.ndarray):
        n = value.size
        count = data_count or n
        body = np.asarray(value[:count] if count < n else value, dtype=">f8").tobytes()
    else:
        count = data_count or 1
        body = _ONE.pack(float(value))
    if data_type == DBR_TIME_DOUBLE:
        seconds, nanos = _stamp(timestamp)
        body = _TIME.pack(status, min(int(severity), 3), seconds, nanos, 0) + body
    return body + _PAD[-len(body) % 8], count


def event_header(data_type: int, size: int, count: int, subscriptionid: int) -> bytes:
    """The header of an update of ``size`` payload bytes and ``count`` elements."""
    if size > 0xFFFF or count > 0xFFFF:
        return _EXTENDED.pack(_EVENT_ADD, 0xFFFF, data_type, 0, _ECA_NORMAL, subscriptionid, size, count)
    return _HEADER.pack(_EVENT_ADD, size, data_type, count, _ECA_NORMAL, subscriptionid)
