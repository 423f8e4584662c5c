"""An ophyd-async ``SignalBackend`` over any ctlshell address (``ca://``, ``pva://``,
``tango://``, ``local://``).

ophyd-async runs its coroutines on bluesky's event loop; ctlshell's channels live on
ctlshell's runtime loop. Every operation here is handed to the runtime loop
(``Runtime.submit``) and awaited on bluesky's loop; nothing on the runtime loop
ever waits for bluesky's loop, so the two cannot deadlock (ADR "scans on bluesky").
Subscriptions go through ctlshell's channel cache, so a PV used both in the shell
and in a scan has one upstream subscription; updates are handed back to bluesky's
loop with ``call_soon_threadsafe``.

Knows ophyd-async's backend contract and ctlshell's core model; not the plans, the
magics or NeXus.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from bluesky.protocols import Reading as BlueskyReading
from event_model import DataKey
from ophyd_async.core import SignalBackend, make_datakey

from ..api import session
from ..core import (Address, DisconnectedError, KeepLatest, Metadata, Reading, Severity,
                    Subscription, ValidationError, parse_address)
from ._disconnect import pause_for_disconnect

log = logging.getLogger(__name__)

#: Seconds after ``caught_up`` gave a fresh read during which older monitor updates
#: are dropped (updates in flight before the read; a clock set back ends it).
FLOOR_SECONDS = 2.0

__all__ = ["AddressBackend", "datatype_for"]

_INTS = ("long", "int", "short", "char", "int64", "uint64", "int32", "uint32", "int16", "uint16",
         "int8", "uint8", "bool")


def datatype_for(meta: Metadata) -> type:
    """The ophyd-async datatype of a channel: float, int, str (enums by label) or ndarray."""
    if meta.is_array:
        return np.ndarray
    if meta.dtype in ("string", "enum"):
        return str
    if meta.dtype in _INTS:
        return int
    return float


def to_value(value: Any, meta: Metadata) -> Any:
    """A ctlshell value as bluesky documents want it (enum index -> label)."""
    if meta.dtype == "enum" and meta.choices and isinstance(value, (int, np.integer)):
        index = int(value)
        return meta.choices[index] if 0 <= index < len(meta.choices) else str(index)
    if isinstance(value, np.generic):
        return value.item()
    return value


def to_reading(reading: Reading, meta: Metadata) -> BlueskyReading[Any]:
    """A ctlshell Reading as a bluesky Reading (value, timestamp, alarm_severity)."""
    severity = int(reading.severity)
    return {"value": to_value(reading.value, meta), "timestamp": reading.timestamp,
            "alarm_severity": -1 if severity >= int(Severity.DISCONNECTED) else severity}


class AddressBackend(SignalBackend[Any]):
    """A read/write/monitor backend for one ctlshell address.

    Parameters
    ----------
    address : str
        Any ctlshell address; a bare name uses the session's default scheme.
    """

    def __init__(self, address: str) -> None:
        super().__init__(None)
        s = session()
        self.address: Address = parse_address(address, s.config.default_scheme)
        self.meta: Metadata | None = None
        self._setpoint: Any = None
        self._sub: Subscription | None = None
        self._callback: Callable[[Any], None] | None = None
        self._bluesky_loop: asyncio.AbstractEventLoop | None = None
        #: the timestamp of the newest reading the callback has been given, and the
        #: fresh read's (and until when) below which monitor updates are stale: see
        #: ``caught_up``
        self._given = float("-inf")
        self._floor = (float("-inf"), 0.0)

    # -- bridging to ctlshell's loop ---------------------------------------------------------
    @staticmethod
    async def _on_runtime(coro: Any) -> Any:
        return await asyncio.wrap_future(session().runtime.submit(coro))

    def source(self, name: str, read: bool) -> str:
        return str(self.address)

    async def connect(self, timeout: float) -> None:
        cache = session().cache
        self.meta = await self._on_runtime(cache.info(self.address, timeout))
        self.datatype = datatype_for(self.meta)
        self._bluesky_loop = asyncio.get_running_loop()

    def _metadata(self) -> Metadata:
        if self.meta is None:
            raise ValidationError(f"{self.address} is not connected")
        return self.meta

    async def put(self, value: Any | None, wait: bool = True) -> None:
        meta = self._metadata()
        if value is None:
            value = self._setpoint
        if meta.dtype == "enum" and isinstance(value, str) and meta.choices and value in meta.choices:
            value = meta.choices.index(value)
        self._setpoint = value
        s = session()
        await self._on_runtime(s.cache.put(self.address, value, wait=wait, timeout=s.config.put_timeout
                                           if hasattr(s.config, "put_timeout") else 600.0))
        if wait:
            await self.caught_up()

    async def caught_up(self) -> None:
        """Give the callback what the channel holds now, if its monitor has not yet
        (nothing when nothing monitors it).

        ophyd-async reads a monitored signal from the values its callback was given: a
        point read right after a completed move would otherwise record the position
        before it while the monitor's update is still on its way (loaded runs recorded
        2.5 for the point at 3.0, 1.0 for the one at 1.5). A fresh read newer than what
        the callback was given is handed to it at once; the monitor's updates older than
        that read are then dropped for a moment, so the value cannot step back. Waiting
        for the monitor instead never ended for a Tango attribute, whose read is stamped
        when it is read while its monitor brings only changes.
        """
        callback = self._callback
        if callback is None:
            return
        try:
            fresh = await self._read()
        except Exception:  # noqa: BLE001 -- the next read reports a lost channel itself
            return
        if self._callback is callback and fresh.timestamp > self._given:
            self._floor = (fresh.timestamp, time.monotonic() + FLOOR_SECONDS)
            self._given = fresh.timestamp
            callback(to_reading(fresh, self._metadata()))

    async def get_datakey(self, source: str) -> DataKey:
        meta = self._metadata()
        reading = await self._read()
        value = to_value(reading.value, meta)
        metadata: dict[str, Any] = {}
        if meta.units:
            metadata["units"] = meta.units
        if meta.precision is not None:
            metadata["precision"] = meta.precision
        if meta.choices:
            metadata["choices"] = list(meta.choices)
        limits: dict[str, Any] = {}
        for key, pair in (("control", meta.control_limits), ("display", meta.display_limits),
                          ("alarm", meta.alarm_limits), ("warning", meta.warning_limits)):
            if pair is not None:
                limits[key] = {"low": float(pair[0]), "high": float(pair[1])}
        if limits:
            metadata["limits"] = limits
        datatype = datatype_for(meta)
        if datatype is np.ndarray:
            value = np.asarray(value)
        return make_datakey(datatype, value, source, metadata)  # type: ignore[arg-type]  # a dict of SignalMetadata keys

    async def _read(self) -> Reading:
        s = session()
        try:
            reading = await self._on_runtime(s.cache.get(self.address, s.config.timeout))
        except DisconnectedError as exc:  # (a timeout stays an error: a move's status fails)
            if pause_for_disconnect(self.address, exc):
                await asyncio.sleep(3600)  # mid-run: cancelled by the pause
            raise
        if not reading.connected:
            if pause_for_disconnect(self.address, reading.status or "no connection"):
                await asyncio.sleep(3600)
            raise DisconnectedError(f"{self.address} is disconnected")
        return reading

    async def raw(self) -> Reading:
        """The channel's ctlshell reading (an enum as its index)."""
        return await self._read()

    async def get_reading(self) -> BlueskyReading[Any]:
        return to_reading(await self._read(), self._metadata())

    async def get_value(self) -> Any:
        return to_value((await self._read()).value, self._metadata())

    async def get_setpoint(self) -> Any:
        if self._setpoint is not None:
            return to_value(self._setpoint, self._metadata())
        return await self.get_value()

    def set_callback(self, callback: Callable[[Any], None] | None) -> None:
        old, self._sub = self._sub, None
        self._callback = callback
        runtime = session().runtime
        if old is not None:
            runtime.submit(session().cache.unsubscribe(old))
        if callback is None:
            return
        loop = self._bluesky_loop or asyncio.get_running_loop()
        meta = self._metadata()
        self._given, self._floor = float("-inf"), (float("-inf"), 0.0)

        def deliver(reading: Reading) -> None:  # a delivery thread of ctlshell's
            if not reading.connected:  # a staged (monitored) signal is read from here in a run
                if self._callback is callback:
                    pause_for_disconnect(self.address, reading.status or "no connection")
                return  # a value of None is no reading
            if self._callback is callback and not loop.is_closed():
                loop.call_soon_threadsafe(give, to_reading(reading, meta))

        def give(value: Any) -> None:  # on the bluesky loop
            if self._callback is not callback:
                return
            stamp, until = self._floor
            if value["timestamp"] < stamp and time.monotonic() < until:
                return  # older than the fresh read caught_up gave it: in flight before it
            callback(value)
            self._given = max(self._given, value["timestamp"])

        future = runtime.submit(session().cache.subscribe(self.address, deliver, KeepLatest()))
        future.add_done_callback(lambda f: self._subscribed(f, callback))

    def _subscribed(self, future: Any, callback: Any) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        sub = future.result()
        if self._callback is callback:
            self._sub = sub
        else:  # replaced or cleared meanwhile
            session().runtime.submit(session().cache.unsubscribe(sub))
