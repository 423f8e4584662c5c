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
        #: the timestamp of the newest reading the callback has been given, and who
        #: waits (on the bluesky loop) for a later one: see ``caught_up``
        self._given = float("-inf")
        self._waiting: list[tuple[float, asyncio.Future[None]]] = []

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
        """Wait until the monitor has given the callback what the channel holds now
        (at once when nothing monitors it).

        ophyd-async reads a monitored signal from the values its callback was given: a
        point read right after a completed move would otherwise record the position
        before it while the monitor's update is still on its way (a loaded machine's
        scan recorded 2.5 for its last point, 3.0). A fresh read's timestamp is the
        mark; the monitor delivers in order, so once it passed that, the cache is current.
        """
        if self._callback is None:
            return
        s = session()
        try:
            now = (await self._read()).timestamp
        except Exception:  # noqa: BLE001 -- the next read reports a lost channel itself
            return
        if self._given >= now:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append((now, waiter))
        try:
            await asyncio.wait_for(waiter, s.config.timeout)
        except asyncio.TimeoutError:
            log.warning("%s: the monitor did not bring the value read after the put within %s s",
                        self.address, s.config.timeout)

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
        self._given = float("-inf")

        def deliver(reading: Reading) -> None:  # a delivery thread of ctlshell's
            if not reading.connected:  # a staged (monitored) signal is read from here in a run
                if self._callback is callback:
                    pause_for_disconnect(self.address, reading.status or "no connection")
                return  # a value of None is no reading
            if self._callback is callback and not loop.is_closed():
                loop.call_soon_threadsafe(give, to_reading(reading, meta))

        def give(value: Any) -> None:  # on the bluesky loop
            callback(value)
            self._given = max(self._given, value["timestamp"])
            if self._waiting:
                waiting, self._waiting = self._waiting, []
                for mark, waiter in waiting:
                    if waiter.done():
                        continue
                    if self._given >= mark:
                        waiter.set_result(None)
                    else:
                        self._waiting.append((mark, waiter))

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
