"""Pure conversion of pytango values into ctlshell readings and metadata.

Knows the Tango quality, format and write-type codes and the text Tango uses for
"not specified"; does no I/O. Takes pytango objects by duck typing
(``DeviceAttribute``, ``AttributeInfoEx``), so it is tested without a server.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...core import Metadata, Reading, Severity, ValidationError
from ._encoded import check_encoded, to_encoded
from ._types import TYPES, TangoType, check_array, check_scalar

__all__ = ["AttrSpec", "QUALITY", "STATES", "new_reading", "to_reading", "to_spec"]

#: AttrQuality code -> (severity, status)
QUALITY: dict[int, tuple[Severity, str]] = {
    0: (Severity.NO_ALARM, ""),
    1: (Severity.INVALID, "INVALID"),
    2: (Severity.MAJOR, "ALARM"),
    3: (Severity.NO_ALARM, "CHANGING"),
    4: (Severity.MINOR, "WARNING"),
}
STATES = ("ON", "OFF", "CLOSE", "OPEN", "INSERT", "EXTRACT", "MOVING", "STANDBY", "FAULT", "INIT",
          "RUNNING", "ALARM", "DISABLE", "UNKNOWN")
_NOT_SET = {"", "not specified", "no unit", "no description", "no display unit", "no standard unit", "nan"}
#: AttrWriteType -> access. READ_WITH_WRITE (1) is read-only: its write attribute is
#: another one, and the device refuses a write of it (API_AttrNotWritable)
_ACCESS = {0: "r", 1: "r", 2: "w", 3: "rw"}
_PRECISION = re.compile(r"%[-+ #0]*\d*\.(\d+)[fFeEgG]")
SCALAR, SPECTRUM, IMAGE = 0, 1, 2


def _text(value: Any) -> str:
    text = str(value or "").strip()
    return "" if text.lower() in _NOT_SET else text


def _number(value: Any) -> float | None:
    text = _text(value)
    if not text:
        return None
    try:
        x = float(text)
    except ValueError:
        return None
    return None if math.isnan(x) else x


def _pair(low: Any, high: Any) -> tuple[float, float] | None:
    lo, hi = _number(low), _number(high)
    if lo is None and hi is None:
        return None
    return (-math.inf if lo is None else lo, math.inf if hi is None else hi)


def to_value(value: Any, type_code: int | None = None) -> Any:
    """A pytango value as a plain Python scalar, str or read-only numpy array.

    ``type_code`` (a ``CmdArgType``) is needed only for DevState given as a number
    (command results); attribute reads give DevState as an enum, shown by its name.
    """
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value.flags.writeable = False  # pytango's array is ours alone: no copy, just no writes
        return value
    if isinstance(value, enum.Enum):  # DevState (an IntEnum): its name reads better than its number
        return value.name
    if type_code == 19:
        return STATES[int(value)] if 0 <= int(value) < len(STATES) else str(value)
    if type_code == 28 or _is_encoded(value):
        return to_encoded(value)
    if isinstance(value, (list, tuple)):
        return tuple(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_encoded(value: Any) -> bool:
    """pytango's read of a DevEncoded: ``(format, bytes or uint8 array)``."""
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) \
        and isinstance(value[1], (bytes, bytearray, memoryview, np.ndarray))


#: A device State as an alarm: what a FAULT or ALARM device means to a user
STATE_SEVERITY = {"FAULT": Severity.MAJOR, "ALARM": Severity.MINOR, "UNKNOWN": Severity.INVALID}


def state_severity(state: str, severity: Severity, status: str) -> tuple[Severity, str]:
    """The severity and status of a State reading: the state's own (FAULT is MAJOR,
    ALARM MINOR, UNKNOWN INVALID) unless the attribute's quality is worse."""
    own = STATE_SEVERITY.get(state)
    if own is None or own <= severity:
        return severity, status
    return own, state


def new_reading(address: str, value: Any, timestamp: float, severity: Severity, status: str,
                _new: Any = object.__new__) -> Reading:
    """``Reading(address, value, timestamp, severity, status)`` without the frozen
    dataclass's ``__init__``: its five ``object.__setattr__`` calls are 1 us of a 20 us
    read of a device on this machine; filling the instance dict is half that. The
    fields are the dataclass's (tests/unit/test_tango_pure.py checks they still are)."""
    reading = _new(Reading)
    fields = reading.__dict__
    fields["address"] = address
    fields["value"] = value
    fields["timestamp"] = timestamp
    fields["severity"] = severity
    fields["status"] = status
    return reading


def to_reading(address: str, attr: Any) -> Reading:
    """A ``DeviceAttribute`` (read or from an event) as a Reading with Tango's own timestamp."""
    quality = attr.quality  # each access of a DeviceAttribute field converts: once each
    severity, status = QUALITY.get(quality) or (Severity.INVALID, str(quality))
    value = attr.value
    if type(value) is not float:  # the common case needs no conversion
        if isinstance(value, enum.Enum) and type(value).__name__ == "DevState":
            severity, status = state_severity(value.name, severity, status)
        value = to_value(value)
    t = attr.time  # TimeVal.totime() without its Python call
    return new_reading(address, value, t.tv_sec + 1e-6 * t.tv_usec + 1e-9 * t.tv_nsec, severity, status)


@dataclass(frozen=True)
class AttrSpec:
    """An attribute's configuration: what info() shows and what a write is checked against."""

    meta: Metadata
    type_code: int
    data_format: int
    max_shape: tuple[int, ...]

    @property
    def tango_type(self) -> TangoType | None:
        return TYPES.get(self.type_code)

    def check(self, value: Any, where: str) -> Any:
        """``value`` as pytango writes it; raises ValidationError before anything is sent."""
        t = self.tango_type
        if self.type_code == 28 and self.data_format == SCALAR:
            return check_encoded(value, where)
        if t is None or t.kind in ("state", "other"):
            raise ValidationError(f"{where}: writing {self.meta.dtype} attributes is not supported by ctlshell")
        m = self.meta
        if self.data_format == SCALAR:
            return check_scalar(value, t, where, limits=m.control_limits, units=m.units, choices=m.choices)
        return check_array(value, t, where, ndim=1 if self.data_format == SPECTRUM else 2,
                           max_shape=self.max_shape, limits=m.control_limits, units=m.units)


def to_spec(info: Any) -> AttrSpec:
    """An ``AttributeInfoEx`` (from ``attribute_query``) as an :class:`AttrSpec`."""
    type_code = int(info.data_type)
    t = TYPES.get(type_code)
    fmt = int(info.data_format)
    dim_x, dim_y = int(info.max_dim_x), int(info.max_dim_y)
    shape = {SCALAR: (), SPECTRUM: (dim_x,), IMAGE: (dim_y, dim_x)}.get(fmt, ())
    precision = None
    match = _PRECISION.match(_text(info.format))
    if match and t is not None and t.kind == "float":
        precision = int(match.group(1))
    if type_code == 29:
        choices: tuple[str, ...] | None = tuple(info.enum_labels)
    elif type_code == 19:
        choices = STATES
    else:
        choices = None
    meta = Metadata(
        dtype=t.name if t is not None else f"type {type_code}",
        count=int(np.prod(shape)) if shape else 1,
        units=_text(info.unit),
        precision=precision,
        control_limits=_pair(info.min_value, info.max_value),
        alarm_limits=_pair(info.alarms.min_alarm, info.alarms.max_alarm),
        warning_limits=_pair(info.alarms.min_warning, info.alarms.max_warning),
        choices=choices,
        description=_text(info.description),
        access=_ACCESS.get(int(info.writable), "r"),  # type: ignore[arg-type]  # values are Access literals
    )
    return AttrSpec(meta, type_code, fmt, shape)
