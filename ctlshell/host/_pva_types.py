"""PV Access structures for a :class:`SoftPV`: the NT type, full and update values,
and what a client's put asks for and who sent it.

Pure apart from p4p's value classes: a :class:`Metadata` and a :class:`Reading` in, a
p4p :class:`~p4p.Value` out, and the reverse for puts. Knows nothing of the server,
its threads or the store.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from p4p import Type, Value
from p4p.nt import NTEnum, NTScalar

from ..core import Client, Metadata, Reading, ValidationError

__all__ = ["full_value", "nt_type", "put_client", "put_request", "update_value"]

#: ctlshell dtype -> p4p type code of the ``value`` field
_CODES = {"double": "d", "float": "f", "long": "i", "int": "i", "short": "h", "char": "B", "string": "s"}
#: alarm.status codes of NTScalar (RECORD for limit alarms, as an IOC sets it)
_STATUS_RECORD, _STATUS_NONE = 3, 0
#: fields a client may mark in a put: the value only (metadata is the host's business)
_WRITABLE = {"value", "value.index"}


def nt_type(meta: Metadata) -> Type:
    """The normative type serving a PV of ``meta``: NTEnum, or NTScalar(Array) with
    display, control and valueAlarm."""
    if meta.dtype == "enum":
        return NTEnum.buildType(display=True)
    code = _CODES.get(meta.dtype, "d")
    if meta.is_array:
        code = "a" + code
    numeric = meta.dtype != "string"
    return NTScalar.buildType(code, display=True, control=numeric, valueAlarm=numeric, form=numeric)


def _alarm(reading: Reading) -> dict[str, Any]:
    severity = min(int(reading.severity), 3)
    return {"severity": severity, "status": _STATUS_RECORD if severity else _STATUS_NONE,
            "message": reading.status}


def _stamp(timestamp: float) -> dict[str, int]:
    sec, frac = divmod(timestamp, 1.0)
    return {"secondsPastEpoch": int(sec), "nanoseconds": min(int(round(frac * 1e9)), 999_999_999)}


def _payload(value: Any, meta: Metadata) -> Any:
    return {"index": int(value)} if meta.dtype == "enum" else value


def update_value(kind: Type, reading: Reading, meta: Metadata) -> Value:
    """The fields that change on a write: value, alarm and timeStamp (the rest is
    left unmarked, so subscribers receive only these)."""
    return Value(kind, {"value": _payload(reading.value, meta), "alarm": _alarm(reading),
                        "timeStamp": _stamp(reading.timestamp)})


def _limits(pair: tuple[float, float] | None) -> dict[str, float]:
    return {} if pair is None else {"limitLow": pair[0], "limitHigh": pair[1]}


def full_value(kind: Type, reading: Reading, meta: Metadata) -> Value:
    """The complete structure a PV opens with: value, alarm, timeStamp and metadata."""
    fields: dict[str, Any] = {"value": _payload(reading.value, meta), "alarm": _alarm(reading),
                              "timeStamp": _stamp(reading.timestamp)}
    display: dict[str, Any] = {"description": meta.description}
    if meta.dtype == "enum":
        fields["value"]["choices"] = list(meta.choices or ())
    else:
        display["units"] = meta.units
    if meta.dtype not in ("enum", "string"):
        display.update(_limits(meta.display_limits or meta.control_limits))
        display["precision"] = meta.precision if meta.precision is not None else 0
        fields["control"] = _limits(meta.control_limits)
        alarms: dict[str, Any] = {}
        if meta.alarm_limits is not None:
            alarms.update(lowAlarmLimit=meta.alarm_limits[0], highAlarmLimit=meta.alarm_limits[1],
                          lowAlarmSeverity=2, highAlarmSeverity=2)
        if meta.warning_limits is not None:
            alarms.update(lowWarningLimit=meta.warning_limits[0], highWarningLimit=meta.warning_limits[1],
                          lowWarningSeverity=1, highWarningSeverity=1)
        if alarms:
            alarms["active"] = True
            fields["valueAlarm"] = alarms
    fields["display"] = display
    return Value(kind, fields)


def put_request(value: Value, meta: Metadata, name: str) -> Any:
    """What a client's put asks to write, as :meth:`SoftPV.write` takes it.

    Raises
    ------
    ValidationError
        The put marks no value, or marks fields other than the value (metadata,
        alarm and timestamp belong to the host).
    """
    changed = set(value.changedSet())
    other = sorted(f for f in changed if f not in _WRITABLE and not f.startswith("value."))
    if other:
        raise ValidationError(f"{name}: only the value can be written over PVA, not {', '.join(other)}")
    if meta.dtype == "enum":
        if "value.choices" in changed:
            raise ValidationError(f"{name}: the choices of an enum cannot be written")
        if not changed & _WRITABLE:
            raise ValidationError(f"{name}: the put carries no value.index")
        return int(value["value.index"])
    if "value" not in changed:
        raise ValidationError(f"{name}: the put carries no value")
    payload = value["value"]
    if meta.is_array:
        return np.asarray(payload)
    return payload


def put_client(op: Any) -> Client:
    """Who sent a PVA put: the peer's address and the account it authenticated as."""
    peer = str(op.peer() or "")
    host = peer.rsplit(":", 1)[0] if ":" in peer else peer
    try:
        user = str(op.account() or "")
    except Exception:
        user = ""
    return Client("pva", host, user)
