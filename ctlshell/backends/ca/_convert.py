"""Pure conversion of aioca's augmented values into ctlshell readings and metadata.

Knows the CA alarm status table and the DBF type names; does no I/O.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...core import Metadata, Reading, Severity
from ._dbr import Time

__all__ = ["ALARM_STATUS", "DBF_NAMES", "to_metadata", "to_reading", "to_value"]

#: epicsAlarmCondition, indexed by the CA status code.
ALARM_STATUS = ("", "READ", "WRITE", "HIHI", "HIGH", "LOLO", "LOW", "STATE", "COS", "COMM",
                "TIMEOUT", "HWLIMIT", "CALC", "SCAN", "LINK", "SOFT", "BAD_SUB", "UDF",
                "DISABLE", "SIMM", "READ_ACCESS", "WRITE_ACCESS")
#: DBF field types, indexed by the CA type code.
DBF_NAMES = ("string", "short", "float", "enum", "char", "long", "double")


def to_value(value: Any) -> Any:
    """An aioca value as a plain Python scalar, str or read-only numpy array."""
    if isinstance(value, np.ndarray):
        arr = np.array(value)  # drops the augmented subclass and its fields
        arr.flags.writeable = False
        return arr
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


#: CA alarm severities 0..3 (a code outside them reads as INVALID); a tuple: this runs per answer
_SEVERITIES = (Severity.NO_ALARM, Severity.MINOR, Severity.MAJOR, Severity.INVALID)


def _severity(code: int) -> Severity:
    code = int(code)
    return _SEVERITIES[code] if 0 <= code < 4 else Severity.INVALID


def _alarm_status(code: int) -> str:
    return ALARM_STATUS[code] if 0 <= code < len(ALARM_STATUS) else str(code)


def to_reading(address: str, value: Any) -> Reading:
    """A FORMAT_TIME value: aioca's (or an error value whose ``.ok`` is False), or a
    scalar's lean :class:`~._dbr.Time`, as a Reading."""
    if type(value) is Time:  # plain already: value, stamp, codes
        return Reading(address, value.value, value.timestamp, _severity(value.severity), _alarm_status(value.status))
    if not getattr(value, "ok", True):
        return Reading(address, None, severity=Severity.DISCONNECTED, status="disconnected")
    status = int(getattr(value, "status", 0))
    return Reading(
        address,
        to_value(value),
        float(value.timestamp),
        _severity(getattr(value, "severity", 0)),
        _alarm_status(status),
    )


def _limits(value: Any, low: str, high: str) -> tuple[float, float] | None:
    lo, hi = getattr(value, low, None), getattr(value, high, None)
    if lo is None or hi is None or lo == hi:
        return None  # CA convention: equal limits (0, 0) mean "not set"
    return (float(lo), float(hi))


def to_metadata(value: Any, datatype: int, count: int, read: bool, write: bool) -> Metadata:
    """A FORMAT_CTRL value (aioca's, or a scalar's lean :class:`~._dbr.Ctrl`, which has
    the same attribute names) plus ``cainfo`` facts as Metadata."""
    dtype = DBF_NAMES[datatype] if 0 <= datatype < len(DBF_NAMES) else "string"
    enums = getattr(value, "enums", None)
    precision = getattr(value, "precision", None)
    return Metadata(
        dtype=dtype,
        count=int(count),
        units=str(getattr(value, "units", "") or ""),
        precision=None if precision is None or dtype not in ("double", "float") else int(precision),
        display_limits=_limits(value, "lower_disp_limit", "upper_disp_limit"),
        control_limits=_limits(value, "lower_ctrl_limit", "upper_ctrl_limit"),
        alarm_limits=_limits(value, "lower_alarm_limit", "upper_alarm_limit"),
        warning_limits=_limits(value, "lower_warning_limit", "upper_warning_limit"),
        choices=tuple(enums) if enums is not None else None,
        access=("r" if read else "") + ("w" if write else ""),  # type: ignore[arg-type]  # one of the Access literals
    )
