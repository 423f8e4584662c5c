"""The in-process PV Access server: a p4p server mirroring the :class:`PVStore`.

Every :class:`SoftPV` of the store (unless excluded) is a p4p ``SharedPV`` serving
an NTScalar, NTScalarArray or NTEnum with the PV's metadata. A write from Python or
from a CA client reaches PVA through the store's listener, with the stored timestamp
and alarm; a PVA client's put goes through :meth:`SoftPV.client_write` first, so it is
checked exactly like a CA put, and a refusal reaches the client as the put's error.

p4p's server runs its own C++ threads; its put handlers run on the runtime loop
(``p4p.server.asyncio``). Posting is synchronous and never queues here: pvxs keeps at
most a few updates per subscriber and squashes the rest, newest wins.

A PV is kept closed while no PVA client is connected to it, and nothing is posted
to it then: a PV that only CA clients (or nobody) watch costs no p4p Value per write
(about a tenth of the server's time under a flood of writes, bench/bench_ca.py). A
client's channel connecting opens it with the PV's current reading; the channel
waits for that. A PV with a read handler (a daemon item that reads its hardware on
request) reads first: pvxs answers a GET from the stored value and offers no hook
per GET, so the read happens when a client's channel connects (a ``pvget``, a new
context). While clients stay connected they see every value published after.

A removed PV's name stays known for TOMBSTONE_SECONDS with its channel closed: a
client that was connected waits on it, and when the name is hosted again (a notebook
cell run once more) it gets the new PV at once instead of at its next search, which
pvxs spaces out up to 30 s. After that the name is released.

Binds to loopback unless told otherwise, and then beacons to loopback only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

from p4p import Type
from p4p.server import Server, StaticProvider
from p4p.server.asyncio import SharedPV

from ..core import Config, CtlshellError, PVStore, SoftPV
from ._loop import call_on_loop, loopback_only
from ._pva_group import GroupChannel
from ._pva_types import full_value, nt_type, put_client, put_request, update_value

__all__ = ["PvaServer"]

log = logging.getLogger(__name__)

#: How long a removed PV's name stays known (closed) to be hosted again at once, seconds.
TOMBSTONE_SECONDS = 30.0


def server_conf(config: Config) -> dict[str, str]:
    """The pvxs server configuration for ``config`` (the environment is not read)."""
    conf = {
        "EPICS_PVAS_INTF_ADDR_LIST": " ".join(config.server_interfaces),
        "EPICS_PVAS_SERVER_PORT": str(config.pva_server_port),
        "EPICS_PVAS_BROADCAST_PORT": str(config.pva_broadcast_port),
    }
    if loopback_only(config.server_interfaces):
        conf["EPICS_PVAS_AUTO_BEACON_ADDR_LIST"] = "NO"
        conf["EPICS_PVAS_BEACON_ADDR_LIST"] = "127.0.0.1"
    return conf


class _Handler:
    """Put handler of one served PV (runs on the runtime loop); ``softpv`` changes when
    the name is hosted again."""

    def __init__(self, softpv: SoftPV, origin: object) -> None:
        self.softpv = softpv
        self._origin = origin

    async def put(self, pv: SharedPV, op: Any) -> None:
        # the same path as a CA write: access rule, type and limits, the PV's write
        # handler (a device or daemon item, which may take its time), the journal
        try:
            softpv = self.softpv
            value = put_request(op.value(), softpv.metadata, softpv.name)
            await softpv.client_write(value, put_client(op), origin=self._origin)
        except CtlshellError as exc:  # ValidationError, PutRefusedError, ...: the client hears why
            log.warning("refused a PVA write from %s: %s", op.peer(), exc)
            op.done(error=str(exc))
            return
        except Exception as exc:  # a handler's own failure
            log.warning("PVA write from %s failed: %s: %s", op.peer(), type(exc).__name__, exc)
            op.done(error=f"{type(exc).__name__}: {exc}")
            return
        op.done()  # the store's listener has already posted the new value

    # a PV is closed while no PVA client is connected (see the module doc)
    async def onFirstConnect(self, pv: SharedPV) -> None:
        softpv = self.softpv
        if not isinstance(self._origin, PvaServer):
            return
        if softpv.has_read_handler:
            try:
                await softpv.client_read()  # the handler stores (and publishes) what it read
            except Exception as exc:
                log.warning("reading %s for a PVA client failed: %s: %s", softpv.name, type(exc).__name__, exc)
        self._origin._open(softpv.name)

    def onLastDisconnect(self, pv: SharedPV) -> None:
        if isinstance(self._origin, PvaServer):
            self._origin._close_idle(self.softpv.name)


@dataclass
class _Served:
    softpv: SoftPV
    shared: SharedPV
    handler: _Handler
    kind: Type
    lock: threading.Lock


@dataclass
class _Tombstone:
    shared: SharedPV
    handler: _Handler
    timer: asyncio.TimerHandle


class PvaServer:
    """Serves a :class:`PVStore` over PV Access.

    Parameters
    ----------
    store : PVStore
    config : Config
        ``server_interfaces``, ``pva_server_port`` and ``pva_broadcast_port`` are used.
    """

    def __init__(self, store: PVStore, config: Config) -> None:
        self._store = store
        self._config = config
        self._server: Server | None = None
        self._provider: StaticProvider | None = None
        self._served: dict[str, _Served] = {}
        self._tombstones: dict[str, _Tombstone] = {}
        self._groups: dict[str, GroupChannel] = {}
        self._excluded: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int | None:
        """The TCP port clients connect to (None when stopped)."""
        if self._server is None:
            return None
        return int(self._server.conf()["EPICS_PVAS_SERVER_PORT"])

    def conf(self) -> dict[str, str]:
        """The effective server configuration (ports, interfaces), as pvxs reports it."""
        return {} if self._server is None else dict(self._server.conf())

    def names(self) -> list[str]:
        """Names served on PVA now."""
        return sorted([*self._served, *self._groups])

    def exclude(self, name: str) -> None:
        """Do not serve ``name`` on PVA (call before the PV is added to the store)."""
        self._excluded.add(name)

    def include(self, name: str) -> None:
        """Undo :meth:`exclude` (for a PV not yet added)."""
        self._excluded.discard(name)

    # -- lifecycle (on the loop) ----------------------------------------------------
    async def start(self) -> None:
        """Bind and start serving every PV of the store."""
        if self._server is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._provider = StaticProvider("ctlshell")
        for pv in self._store:
            self._attach(pv)
        self._store.watch(self._on_add, self._on_remove)
        self._server = Server(providers=[self._provider], conf=server_conf(self._config), useenv=False)
        if self.port != self._config.pva_server_port:
            # not an error: PVA clients learn the TCP port from the search answer (a kernel
            # restarted while the old one still held the port, another server, ...)
            log.info("PVA port %s is taken; serving on %s", self._config.pva_server_port, self.port)
        log.info("PVA server listening on %s port %s", self._config.server_interfaces, self.port)

    async def stop(self) -> None:
        """Stop serving: connected clients see their channels disconnect. Idempotent."""
        self._store.unwatch(self._on_add, self._on_remove)
        for name in list(self._served):
            self._detach(name)
        for name in list(self._tombstones):
            self._release(name)
        await self.remove_group(list(self._groups))
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._provider = None

    # -- caproto groups (their ChannelData, not SoftPVs) ---------------------------------
    async def add_group(self, pvdb: dict[str, Any]) -> None:
        """Serve a hosted group's channels on PVA too (on the loop)."""
        if self._provider is None:
            return
        for name, channel in pvdb.items():
            if name in self._excluded or name in self._served or name in self._groups:
                continue
            self._release(name)  # a tombstone of a removed SoftPV of that name
            mirror = GroupChannel(name, channel, lambda: self._store.write_rule)
            shared = SharedPV(handler=mirror, initial=mirror.initial())
            self._groups[name] = mirror
            await mirror.start(shared)
            self._provider.add(name, shared)

    async def remove_group(self, names: list[str]) -> None:
        """Stop serving a group's channels on PVA (on the loop): their clients disconnect."""
        for name in names:
            mirror = self._groups.pop(name, None)
            if mirror is None:
                continue
            shared = mirror.shared
            await mirror.stop()
            if self._provider is not None:
                self._provider.remove(name)
            if shared is not None:
                shared.close()

    # -- mirroring ----------------------------------------------------------------------
    def _attach(self, pv: SoftPV) -> None:
        if pv.name in self._excluded:
            self._release(pv.name)  # served elsewhere now, maybe: do not keep clients waiting here
            return
        if pv.name in self._served or pv.closed or self._provider is None:
            return
        kind = nt_type(pv.metadata)
        snapshot = pv.read()
        tomb = self._tombstones.pop(pv.name, None)
        if tomb is not None:  # hosted again: the clients still waiting on the name get it now
            tomb.timer.cancel()
            tomb.handler.softpv = pv
            shared, handler = tomb.shared, tomb.handler
            shared.open(full_value(kind, snapshot, pv.metadata))
        else:
            handler = _Handler(pv, self)
            shared = SharedPV(handler=handler)  # closed till a client's first connect opens it
        self._served[pv.name] = _Served(pv, shared, handler, kind, threading.Lock())
        pv.add_listener(self._on_change)
        if pv.read() is not snapshot:  # a write between the snapshot and the listener
            self._post(self._served[pv.name])
        if tomb is None:
            self._provider.add(pv.name, shared)

    def _detach(self, name: str) -> None:
        served = self._served.pop(name, None)
        self._excluded.discard(name)
        if served is None:
            return
        served.softpv.remove_listener(self._on_change)
        served.shared.close()  # clients see the channel disconnect
        if self._provider is not None and self._loop is not None:
            timer = self._loop.call_later(TOMBSTONE_SECONDS, self._release, name)
            self._tombstones[name] = _Tombstone(served.shared, served.handler, timer)

    def _release(self, name: str) -> None:
        """Forget a removed PV's name: clients no longer find it here."""
        tomb = self._tombstones.pop(name, None)
        if tomb is None:
            return
        tomb.timer.cancel()
        if self._provider is not None:
            self._provider.remove(name)

    def _on_add(self, pv: SoftPV) -> None:
        self._call_on_loop(self._attach, pv)

    def _on_remove(self, pv: SoftPV) -> None:
        self._call_on_loop(self._detach, pv.name)

    def _call_on_loop(self, fn: Any, *args: Any) -> None:
        call_on_loop(self._loop, fn, *args)

    def _on_change(self, reading: object, origin: object) -> None:
        """A SoftPV changed (any thread): post its newest reading."""
        name = getattr(reading, "address", "").partition("://")[2]
        served = self._served.get(name)
        if served is not None:
            self._post(served)

    def _open(self, name: str) -> None:
        """Open a PV with its freshest reading (a client connected)."""
        served = self._served.get(name)
        if served is None:
            return
        with served.lock:
            if not served.shared.isOpen():
                served.shared.open(full_value(served.kind, served.softpv.read(), served.softpv.metadata))

    def _close_idle(self, name: str) -> None:
        """Close a PV whose last client left: nothing is posted till the next one connects."""
        served = self._served.get(name)
        if served is not None:
            with served.lock:
                served.shared.close()

    def _post(self, served: _Served) -> None:
        # Post the PV's *current* reading under a lock: writers on two threads may
        # announce out of order, but the last post is always the newest value.
        with served.lock:
            if not served.shared.isOpen():
                return  # no PVA client: the next one's connect opens it with the newest reading
            try:
                served.shared.post(update_value(served.kind, served.softpv.read(), served.softpv.metadata))
            except Exception:
                log.exception("publishing %s on PVA failed", served.softpv.name)
