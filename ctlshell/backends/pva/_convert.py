"""p4p values to :class:`Reading` / :class:`Metadata`, for normative types and for
plain structures, whole or one field.

Pure apart from p4p's value classes: a p4p :class:`~p4p.Value` (as the server sent it)
and a field path in, frozen ctlshell values out. A structure that is no normative
type is shown field by field: its value is a flat ``{"a.b": leaf}`` dict.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
from p4p import Value

from ...core import Metadata, NotFoundError, Reading, Severity, ValidationError

__all__ = ["field_of", "is_structure", "leaf_paths", "put_target", "to_metadata", "to_reading"]

#: p4p type code (last letter) -> ctlshell dtype
_TYPES = {"d": "double", "f": "float", "i": "long", "l": "long", "h": "short", "b": "char",
          "I": "long", "L": "long", "H": "short", "B": "char", "s": "string", "?": "long"}


def _get(value: Value, path: str, default: Any = None) -> Any:
    try:
        return value[path]
    except (KeyError, AttributeError, TypeError, ValueError):
        return default


def is_structure(x: Any) -> bool:
    return isinstance(x, Value)


def _is_enum(value: Value) -> bool:
    inner = _get(value, "value")
    return is_structure(inner) and _get(inner, "choices") is not None and _get(inner, "index") is not None


def _is_nt_like(value: Value) -> bool:
    """NTScalar, NTScalarArray or NTEnum shape: a leaf ``value`` or an enum_t one."""
    return _is_enum(value) or ("value" in value.keys() and not is_structure(_get(value, "value")))  # noqa: SIM118 (a p4p Value)


def leaf_paths(value: Value, prefix: str = "") -> list[str]:
    """Every leaf field of a structure, as dotted paths, in declaration order."""
    out: list[str] = []
    for key in value.keys():  # noqa: SIM118 (a p4p Value: keys() is its field list)
        child = value[key]
        path = f"{prefix}{key}"
        if is_structure(child):
            out.extend(leaf_paths(child, path + "."))
        else:
            out.append(path)
    return out


def field_of(value: Value, path: str, address: str) -> Any:
    """The sub-structure or leaf at ``path`` ('' is the whole value).

    Raises
    ------
    NotFoundError
        The structure has no such field; the message lists the fields it has.
    """
    if not path:
        return value
    found = _get(value, path, _MISSING)
    if found is _MISSING:
        fields = ", ".join(leaf_paths(value)[:12])
        raise NotFoundError(f"{address}: the structure has no field {path!r} (fields: {fields})")
    return found


_MISSING = object()


def _frozen(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        if x.flags.writeable:  # p4p's own arrays are read-only views of pvxs's immutable buffers: kept
            x = np.array(x)
            x.flags.writeable = False
    elif isinstance(x, list):
        x = tuple(x)
    return x


def _stamp_and_alarm(holder: Value | None) -> tuple[float, Severity, str]:
    if holder is None or _get(holder, "timeStamp") is None:
        stamp = time.time()  # no timeStamp in this structure: the time we received it
    else:
        stamp = (_get(holder, "timeStamp.secondsPastEpoch", 0) or 0) + \
            (_get(holder, "timeStamp.nanoseconds", 0) or 0) * 1e-9
    severity = int(_get(holder, "alarm.severity", 0) or 0) if holder is not None else 0
    message = str(_get(holder, "alarm.message", "") or "") if holder is not None else ""
    return stamp, Severity(min(max(severity, 0), 3)), message


_FAST_IDS = ("epics:nt/NTScalar:1.0", "epics:nt/NTScalarArray:1.0")


def _fast_reading(address: str, top: Value) -> Reading | None:
    """NTScalar(Array) with alarm and timeStamp, the common case: five field reads
    (a read of a field does not release the GIL; ``todict()`` of the whole structure,
    display and control included, costs five times as much)."""
    if top.getID() not in _FAST_IDS:
        return None
    try:
        payload = top["value"]
        seconds = top["timeStamp.secondsPastEpoch"] + top["timeStamp.nanoseconds"] * 1e-9
        severity, message = top["alarm.severity"], top["alarm.message"]
    except (KeyError, TypeError):
        return None
    if isinstance(payload, Value):
        return None
    return Reading(address, _frozen(payload), seconds, _SEVERITIES[min(max(int(severity), 0), 3)], message)


_SEVERITIES = tuple(Severity(i) for i in range(4))


def to_reading(address: str, top: Value, path: str = "") -> Reading:
    """The reading of ``address``: the field at ``path`` of ``top`` ('' for the whole).

    A normative type gives its value (an enum its index); any other structure a flat
    dict of its leaves. Timestamp and alarm come from the field's own structure when
    it has them, else from the top level, else the receive time.
    """
    if not path:
        fast = _fast_reading(address, top)
        if fast is not None:
            return fast
    part = field_of(top, path, address)
    if is_structure(part):
        holder = part if _get(part, "timeStamp") is not None else top
        stamp, severity, message = _stamp_and_alarm(holder)
        if _is_enum(part):
            payload: Any = int(part["value.index"])
        elif _is_nt_like(part):
            payload = _frozen(part["value"])
        else:
            payload = {p: _frozen(part[p]) for p in leaf_paths(part)}
        return Reading(address, payload, stamp, severity, message)
    stamp, severity, message = _stamp_and_alarm(top)
    return Reading(address, _frozen(part), stamp, severity, message)


def _pair(value: Value, low: str, high: str) -> tuple[float, float] | None:
    lo, hi = _get(value, low), _get(value, high)
    if lo is None or hi is None or lo == hi:
        return None
    return (float(lo), float(hi))


def _leaf_metadata(code: str, payload: Any) -> Metadata:
    array = code.startswith("a")
    return Metadata(dtype=_TYPES.get(code[-1:], "double"), count=len(payload) if array else 1)


def to_metadata(top: Value, path: str = "", address: str = "") -> Metadata:
    """What the field at ``path`` says about itself (units, limits, choices, type).

    A structure that is no normative type has dtype ``"struct"`` and cannot be written
    whole; its fields can.
    """
    part = field_of(top, path, address)
    if not is_structure(part):
        parent, _, leaf = path.rpartition(".")
        holder = top[parent] if parent else top
        return _leaf_metadata(holder.type()[leaf], part)
    description = str(_get(part, "display.description", "") or "")
    if _is_enum(part):
        return Metadata(dtype="enum", choices=tuple(part["value.choices"]), description=description)
    if not _is_nt_like(part):
        return Metadata(dtype="struct", count=len(leaf_paths(part)), description=description, access="r")
    meta = _leaf_metadata(part.type()["value"], part["value"])
    precision = _get(part, "display.precision")
    return Metadata(
        dtype=meta.dtype,
        count=meta.count,
        units=str(_get(part, "display.units", "") or ""),
        precision=int(precision) if precision is not None else None,
        display_limits=_pair(part, "display.limitLow", "display.limitHigh"),
        control_limits=_pair(part, "control.limitLow", "control.limitHigh"),
        alarm_limits=_pair(part, "valueAlarm.lowAlarmLimit", "valueAlarm.highAlarmLimit"),
        warning_limits=_pair(part, "valueAlarm.lowWarningLimit", "valueAlarm.highWarningLimit"),
        description=description,
    )


def put_target(top: Value, path: str, address: str) -> tuple[str, Metadata]:
    """Where a put to the field at ``path`` writes, and the metadata to check it against.

    Returns
    -------
    (key, Metadata)
        The field to assign (``value``, ``value.index``, ``a.b.value``, ``a.b``) and the
        metadata the value is checked with (arrays: any length, PVA arrays have none).

    Raises
    ------
    ValidationError
        The address names a structure that is no normative type (write its fields).
    """
    part = field_of(top, path, address)
    prefix = f"{path}." if path else ""
    meta = to_metadata(top, path, address)
    if meta.dtype == "struct":
        fields = ", ".join(f"{address}.{p}" for p in leaf_paths(part)[:4])
        raise ValidationError(f"{address} is a structure; write one of its fields ({fields}, ...)")
    if is_structure(part):
        key = prefix + ("value.index" if meta.dtype == "enum" else "value")
        code = "" if meta.dtype == "enum" else part.type()["value"]
    else:
        key = path
        parent, _, leaf = path.rpartition(".")
        code = (top[parent] if parent else top).type()[leaf]
    if code.startswith("a"):
        meta = replace(meta, count=2**31 - 1)
    elif meta.count != 1:
        meta = replace(meta, count=1)
    return key, meta
