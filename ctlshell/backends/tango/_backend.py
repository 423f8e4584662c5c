"""The ``tango://`` client backend over pytango.

Reads, writes, attribute configuration and commands run in a thread pool
(:mod:`._devices`); subscriptions are change events drained by a pump thread, or
polling when the device sends none (:mod:`._streams`). Writes and command
arguments are checked against the attribute configuration / command type first,
so a refused value is never sent.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from dataclasses import replace
from typing import Any

import tango

from ...core import AddressError, Backend, ChannelTimeoutError, CommandInfo, Metadata, OnReading, PutRefusedError, Reading, ValidationError
from ._commands import check_argument, to_command_info, to_result
from ._database import Databases
from ._convert import to_reading
from ._devices import DEVICE_TIMEOUT_MS, Devices
from ._errors import to_error
from ._names import TangoName, attribute_name, command_name, device_name, parse_name
from ._specs import Specs
from ._streams import Stream, Streams
from ._untraced import untraced

__all__ = ["TangoBackend"]

#: Command types are fetched again when older than this (attribute configurations
#: follow the device: :mod:`._specs`).
COMMAND_MAX_AGE = 10.0

#: ``DeviceProxy`` methods without pytango's green-mode dispatch (our proxies are
#: synchronous) and without its per-call telemetry refresh while telemetry is off
#: (~150-200 us of a ~60 us read: :mod:`._untraced`).
_READ_ATTRIBUTE = untraced(tango.DeviceProxy.read_attribute)
_WRITE_ATTRIBUTE = untraced(tango.DeviceProxy.write_attribute)
_COMMAND_INOUT = untraced(tango.DeviceProxy.command_inout)


#: How often a put with ``wait`` looks at a MOVING device's state, seconds.
MOVING_POLL = 0.02

class _Upstream:
    def __init__(self, backend: TangoBackend, stream: Stream) -> None:
        self._backend = backend
        self._stream = stream

    async def close(self) -> None:
        self._backend._streams.remove(self._stream)


class TangoBackend(Backend):
    """``tango://`` through pytango ``DeviceProxy`` objects."""

    scheme = "tango"

    def __init__(self) -> None:
        self._devices = Devices()
        self._streams = Streams(self._devices)
        self._specs = Specs(self._devices)
        self._databases = Databases(self._devices)
        self._commands: dict[TangoName, tuple[float, Any]] = {}
        #: name -> (proxy, attribute, address) for blocking reads on the caller's thread
        self._readers: dict[str, tuple[tango.DeviceProxy, str, str]] = {}

    # -- attributes ------------------------------------------------------------------
    async def get(self, name: str, timeout: float) -> Reading:
        tn = attribute_name(name)
        address = str(tn)
        attr = await self._devices.call(tn, "read", timeout, lambda p: _READ_ATTRIBUTE(p, tn.member))
        return to_reading(address, attr)

    def get_now(self, name: str, timeout: float) -> Reading | None:
        """A blocking read on the caller's thread (pytango blocks only its caller).

        Used when ``timeout`` is at least the device timeout the proxy enforces itself.
        """
        if timeout * 1000 < DEVICE_TIMEOUT_MS:
            return None
        reader = self._readers.get(name)
        try:
            if reader is None:
                tn = attribute_name(name)
                reader = self._readers[name] = (self._devices.proxy(tn), tn.member, str(tn))
            attr = _READ_ATTRIBUTE(reader[0], reader[1])
        except tango.DevFailed as exc:
            if self._devices.forget_if_unreachable(attribute_name(name), exc):
                self._readers.pop(name, None)  # the next read makes a new proxy (no 1 s reconnection delay)
            raise to_error(exc, str(attribute_name(name)), "read", timeout) from None
        return to_reading(reader[2], attr)

    async def info(self, name: str, timeout: float) -> Metadata:
        if not parse_name(name).member:  # a device: its class, server and device properties
            return await self.device_info(name, timeout)
        tn = attribute_name(name)
        meta = (await self._specs.get(tn, timeout, fresh=True)).meta
        stream = self._streams.find(tn)
        updates = stream.describe_mode() if stream is not None else "not subscribed"
        return replace(meta, updates=updates)

    async def put(self, name: str, value: Any, *, wait: bool, timeout: float) -> None:
        # Tango writes are always confirmed by the device; with ``wait`` a write that set
        # the device MOVING (a motor) also waits until it is no longer moving
        started = time.monotonic()
        tn = attribute_name(name)
        checked = await self._specs.check(tn, value, timeout)
        left = max(timeout - (time.monotonic() - started), 0.1)
        try:
            await self._devices.call(tn, "put", left, lambda p: _WRITE_ATTRIBUTE(p, tn.member, checked))
        except PutRefusedError as exc:
            # the device's configuration changed since it was checked: refuse with its limits
            await self._specs.recheck(tn, value, left, exc)
        if wait:
            await self._wait_not_moving(tn, started + timeout)

    async def _wait_not_moving(self, tn: TangoName, deadline: float) -> None:
        while True:
            left = deadline - time.monotonic()
            state = await self._devices.call(tn, "state", max(left, 0.1), lambda p: p.state())
            if state != tango.DevState.MOVING:
                return
            if left <= 0:
                raise ChannelTimeoutError(f"{tn}: still MOVING when the put's timeout ran out")
            await asyncio.sleep(MOVING_POLL)

    async def subscribe(self, name: str, on_reading: OnReading) -> _Upstream:
        tn = attribute_name(name)
        return _Upstream(self, self._streams.open(tn, on_reading))

    # -- commands --------------------------------------------------------------------
    async def _command(self, tn: TangoName, timeout: float) -> Any:
        cached = self._commands.get(tn)
        if cached is not None and time.monotonic() - cached[0] < COMMAND_MAX_AGE:
            return cached[1]
        info = await self._devices.call(tn, "command_query", timeout, lambda p: p.command_query(tn.member))
        self._commands[tn] = (time.monotonic(), info)
        return info

    async def command_info(self, name: str, timeout: float) -> CommandInfo:
        tn = command_name(name)
        return to_command_info(tn.member, await self._command(tn, timeout))

    async def execute(self, name: str, argument: Any, timeout: float) -> Any:
        started = time.monotonic()
        tn = command_name(name)
        info = await self._command(tn, timeout)
        checked = check_argument(argument, int(info.in_type), str(tn))
        left = max(timeout - (time.monotonic() - started), 0.1)
        if checked is None:
            result = await self._devices.call(tn, "command", left, lambda p: _COMMAND_INOUT(p, tn.member))
        else:
            result = await self._devices.call(tn, "command", left, lambda p: _COMMAND_INOUT(p, tn.member, checked))
        return to_result(result, int(info.out_type))

    # -- the database and device properties ------------------------------------------------
    async def list_names(self, kind: str, pattern: str, host: str | None, timeout: float) -> list[str]:
        """``devices``, ``classes`` or ``servers`` of the database at ``host`` (None:
        ``TANGO_HOST``) whose names match the wildcard ``pattern``."""
        lister = {"devices": self._databases.devices, "classes": self._databases.classes,
                  "servers": self._databases.servers}.get(kind)
        if lister is None:
            raise ValidationError(f"the Tango database lists devices, classes or servers, not {kind!r}")
        if host is not None and not re.fullmatch(r"[A-Za-z0-9_.\-]+:\d{1,5}", host):
            raise ValidationError(f"a Tango database is host:port, got {host!r}")
        return await lister(pattern, host, timeout)

    async def device_properties(self, name: str, timeout: float) -> dict[str, str | tuple[str, ...]]:
        """The device properties of a device (one string, or a tuple of them, each)."""
        return await self._databases.properties(device_name(name), timeout)

    async def set_device_properties(self, name: str, changes: dict[str, Any], timeout: float) -> None:
        """Write device properties of a device (all checked before any is written)."""
        await self._databases.put_properties(device_name(name), changes, timeout)

    async def device_info(self, name: str, timeout: float) -> Metadata:
        """A device as :class:`Metadata`: its class, server and device properties in the description."""
        tn = device_name(name)

        def about(proxy: tango.DeviceProxy) -> str:
            info = proxy.info()
            return f"{info.dev_class} device of server {info.server_id}"

        text = await self._devices.call(tn, "info", timeout, about)
        if tn.dbase:
            props = await self._databases.properties(tn, timeout)
            shown = ", ".join(f"{k}={v!r}" for k, v in props.items()) or "none"
            text += f"; device properties: {shown}"
        return Metadata(dtype="device", count=1, description=text, access="r", updates="not subscribed")

    # -- whole devices (for device proxies) ------------------------------------------------
    async def device_members(self, name: str, timeout: float) -> tuple[list[str], dict[str, str]]:
        """The attribute names and the commands (name -> description) of a device."""
        tn = device_name(name)

        def members(proxy: tango.DeviceProxy) -> tuple[list[str], dict[str, str]]:
            commands = {c.cmd_name: str(c.out_type_desc if c.out_type_desc != "Uninitialised" else "")
                        for c in proxy.command_list_query()}
            return list(proxy.get_attribute_list()), commands

        return await self._devices.call(tn, "list", timeout, members)

    async def lock_device(self, name: str, timeout: float) -> None:
        """Take Tango's own lock of the device for this client (other clients' writes are refused)."""
        tn = device_name(name)
        await self._devices.call(tn, "lock", timeout, lambda p: p.lock())

    async def unlock_device(self, name: str, timeout: float) -> None:
        tn = device_name(name)
        await self._devices.call(tn, "unlock", timeout, lambda p: p.unlock())

    # -- lifetime ----------------------------------------------------------------------
    def release(self, name: str) -> None:
        try:
            tn = attribute_name(name)
        except AddressError:
            return
        self._specs.forget(tn)
        self._readers.pop(name, None)

    async def close(self) -> None:
        # joining the threads and unsubscribing block: not on the loop. A thread of its
        # own, not the default executor, which refuses work once the interpreter exits
        # (the session closes from atexit)
        def close_all() -> None:
            self._streams.close()
            self._specs.close()

        closer = threading.Thread(target=close_all, name="ctlshell-tango-close", daemon=True)
        closer.start()
        while closer.is_alive():
            await asyncio.sleep(0.01)
        self._devices.close()
        self._readers.clear()
        self._commands.clear()

