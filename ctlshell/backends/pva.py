"""The ``pva://`` backend: EPICS PV Access through p4p's asyncio client.

This is the first cut the foundation needs (get, put, info, monitor of NTScalar,
NTScalarArray and NTEnum); the PV Access issue extends it. Values are read raw
(``nt=False``) and converted here, so timestamps and alarms come from the server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from p4p import Value
from p4p.client.asyncio import Context, Disconnected, RemoteError

from ..core import (
    Backend,
    ChannelTimeoutError,
    DisconnectedError,
    Metadata,
    OnReading,
    PutRefusedError,
    Reading,
    SyncUpstream,
    Severity,
    coerce,
)

__all__ = ["PvaBackend"]

_TYPES = {"d": "double", "f": "float", "i": "long", "l": "long", "h": "short", "b": "char",
          "I": "long", "L": "long", "H": "short", "B": "char", "s": "string", "?": "long"}


def _field(value: Value, path: str, default: Any = None) -> Any:
    try:
        return value[path]
    except (KeyError, AttributeError, TypeError):
        return default


def _is_enum(value: Value) -> bool:
    return _field(value, "value.choices") is not None


def _to_reading(address: str, value: Value) -> Reading:
    if _is_enum(value):
        payload: Any = int(value["value.index"])
    else:
        payload = value["value"]
        if isinstance(payload, np.ndarray):
            payload = np.array(payload)
            payload.flags.writeable = False
    secs = _field(value, "timeStamp.secondsPastEpoch", 0) or 0
    nsec = _field(value, "timeStamp.nanoseconds", 0) or 0
    severity = int(_field(value, "alarm.severity", 0) or 0)
    return Reading(address, payload, secs + nsec * 1e-9,
                   Severity(min(max(severity, 0), 3)), str(_field(value, "alarm.message", "") or ""))


def _pair(value: Value, low: str, high: str) -> tuple[float, float] | None:
    lo, hi = _field(value, low), _field(value, high)
    if lo is None or hi is None or lo == hi:
        return None
    return (float(lo), float(hi))


def _to_metadata(value: Value) -> Metadata:
    if _is_enum(value):
        return Metadata(dtype="enum", choices=tuple(value["value.choices"]),
                        description=str(_field(value, "display.description", "") or ""))
    code = value.type()["value"]
    array = code.startswith("a")
    payload = value["value"]
    return Metadata(
        dtype=_TYPES.get(code[-1], "double"),
        count=len(payload) if array else 1,
        units=str(_field(value, "display.units", "") or ""),
        precision=_field(value, "display.precision"),
        display_limits=_pair(value, "display.limitLow", "display.limitHigh"),
        control_limits=_pair(value, "control.limitLow", "control.limitHigh"),
        alarm_limits=_pair(value, "valueAlarm.lowAlarmLimit", "valueAlarm.highAlarmLimit"),
        warning_limits=_pair(value, "valueAlarm.lowWarningLimit", "valueAlarm.highWarningLimit"),
        description=str(_field(value, "display.description", "") or ""),
    )


class PvaBackend(Backend):
    """``pva://`` through p4p."""

    scheme = "pva"

    def __init__(self) -> None:
        self._ctx: Context | None = None

    def _context(self) -> Context:
        if self._ctx is None:
            self._ctx = Context("pva", nt=False)
        return self._ctx

    async def _get_raw(self, name: str, timeout: float, verb: str) -> Value:
        try:
            return await asyncio.wait_for(self._context().get(name), timeout)
        except TimeoutError:
            raise ChannelTimeoutError(
                f"pva://{name}: no answer to {verb} within {timeout} s (unknown PV, or its server is "
                "not reachable through EPICS_PVA_ADDR_LIST)") from None
        except Disconnected:
            raise DisconnectedError(f"pva://{name}: the server disconnected during {verb}") from None

    async def get(self, name: str, timeout: float) -> Reading:
        return _to_reading(f"pva://{name}", await self._get_raw(name, timeout, "get"))

    async def info(self, name: str, timeout: float) -> Metadata:
        return _to_metadata(await self._get_raw(name, timeout, "info"))

    async def put(self, name: str, value: Any, *, wait: bool, timeout: float) -> None:
        meta = await self.info(name, timeout)
        checked = coerce(value, meta, f"pva://{name}")
        payload = {"value.index": checked} if meta.dtype == "enum" else checked
        try:
            await asyncio.wait_for(self._context().put(name, payload, wait=wait), timeout)
        except TimeoutError:
            raise ChannelTimeoutError(f"pva://{name}: put not confirmed within {timeout} s") from None
        except RemoteError as exc:
            raise PutRefusedError(f"pva://{name}: the server refused the write ({exc})") from None

    async def subscribe(self, name: str, on_reading: OnReading) -> SyncUpstream:
        address = f"pva://{name}"

        connected = False

        async def callback(value: Any) -> None:  # p4p's asyncio monitor wants a coroutine
            nonlocal connected
            if isinstance(value, Exception):
                if connected:  # p4p also sends one before the first connection
                    on_reading(Reading(address, None, severity=Severity.DISCONNECTED, status="disconnected"))
                connected = False
            else:
                connected = True
                on_reading(_to_reading(address, value))

        return SyncUpstream(self._context().monitor(name, callback, notify_disconnect=True))

    async def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None
