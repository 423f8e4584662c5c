"""The ``local://`` backend: this process's own PVs, straight from the :class:`PVStore`.

No sockets. Every hosted PV is readable here too, with the same readings the
servers publish; a read goes through the PV's read handler, as a protocol client's
does (a daemon item that reads its hardware on request).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..core import Backend, ChannelTimeoutError, Client, Metadata, NotFoundError, OnReading, PVStore, Reading, Severity, SoftPV

__all__ = ["LocalBackend"]


class _LocalUpstream:
    def __init__(self, store: PVStore, pv: SoftPV, on_reading: OnReading) -> None:
        self._pv = pv
        self._store = store
        self._on_reading = on_reading
        self._loop = asyncio.get_running_loop()
        pv.add_listener(self._listener)
        store.watch(self._added, self._removed)
        self._loop.call_soon(on_reading, pv.read())

    def _deliver(self, reading: Reading) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._on_reading(reading)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._on_reading, reading)

    def _listener(self, reading: Reading, origin: object) -> None:
        self._deliver(reading)

    def _added(self, pv: SoftPV) -> None:
        if pv.name == self._pv.name and pv is not self._pv:
            # the name is hosted again: follow the new PV, starting from its value
            self._pv.remove_listener(self._listener)
            self._pv = pv
            pv.add_listener(self._listener)
            self._deliver(pv.read())

    def _removed(self, pv: SoftPV) -> None:
        if pv is self._pv:
            self._deliver(Reading(pv.read().address, None, severity=Severity.DISCONNECTED, status="removed"))

    async def close(self) -> None:
        self._pv.remove_listener(self._listener)
        self._store.unwatch(self._added, self._removed)


class LocalBackend(Backend):
    """Reads and writes :class:`SoftPV` objects of one store.

    Parameters
    ----------
    store : PVStore
    """

    scheme = "local"

    def __init__(self, store: PVStore) -> None:
        self.store = store

    async def get(self, name: str, timeout: float) -> Reading:
        pv = self.store.get(name)
        if not pv.has_read_handler:
            return pv.read()
        try:
            return await asyncio.wait_for(pv.client_read(), timeout)
        except asyncio.TimeoutError:
            raise ChannelTimeoutError(f"local://{name}: no answer from its read handler within {timeout:g} s") from None

    async def put(self, name: str, value: Any, *, wait: bool, timeout: float) -> None:
        pv = self.store.get(name)
        if pv.has_write_handler:
            # a device or daemon item: its handler decides, as for a protocol client
            await pv.client_write(value, Client("python"))
        else:
            pv.write(value)

    async def info(self, name: str, timeout: float) -> Metadata:
        return self.store.get(name).metadata

    async def subscribe(self, name: str, on_reading: OnReading) -> _LocalUpstream:
        if name not in self.store:
            raise NotFoundError(f"no local PV named {name!r}")
        return _LocalUpstream(self.store, self.store.get(name), on_reading)
