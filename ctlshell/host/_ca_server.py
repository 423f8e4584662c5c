"""The in-process CA server: caproto's asyncio server as a task on the runtime loop.

Serves every :class:`SoftPV` of a :class:`PVStore`, added or removed while it
runs. Values set from Python are published coalesced: the newest reading is sent
once the loop gets to it, never a queue of stale ones. Slow clients are bounded:
one queued update per subscription (newest wins), a small socket send buffer, and
caproto's handling of the client's EVENTS_OFF flow control.

Binds to loopback unless told otherwise, and then beacons to loopback only. Many
servers share a host's CA port: each also listens on its interface's broadcast
address (:mod:`._ca_udp`), where searches reach them all.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

import caproto
from caproto.asyncio.server import Context as _CaprotoContext
from caproto.asyncio.utils import _DatagramProtocol

from ..core import Config, NotFoundError, PVStore, Reading, SoftPV, ValidationError
from ._ca_channels import anchor_channel, make_channel, write_reading
from ._ca_circuit import PacedCircuit as _Circuit
from ._ca_lane import LaneIndex
from ._ca_udp import broadcast_of, broadcast_socket
from ._loop import call_on_loop, loop_has_work, loopback_only

__all__ = ["CaServer"]

log = logging.getLogger(__name__)

#: Kernel send buffer per client circuit. Small, so a client that reads slowly
#: back-pressures the server (which then coalesces) instead of a megabyte of old
#: updates queuing in the kernel.
CIRCUIT_SNDBUF = 32 * 1024
#: Bytes asyncio may hold for a circuit before the sender waits: none, so that the
#: kernel's counters below see everything not yet sent.
CIRCUIT_WRITE_HIGH_WATER = 0


class _QuietRefusals(logging.Filter):
    """A refused client write is normal operation: log one line, not a traceback. A
    write that crossed its PV's removal (a motor's STOP sent as the shell exits) is
    refused too, and logged at INFO only."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ValidationError):
            log.warning("refused a CA write: %s", exc)
            return False
        if isinstance(exc, NotFoundError):
            log.info("refused a CA write: %s", exc)
            return False
        return True


class _QuietBeacons(logging.Filter):
    """With no CA repeater on loopback every beacon is refused; that is harmless."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to send beacon")


def _add_filter_once(logger_name: str, kind: type[logging.Filter]) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, kind) for f in logger.filters):  # a restarted server adds none
        logger.addFilter(kind())


#: caproto's beacon settings for a server on loopback only
BEACON_ENV = {"EPICS_CAS_AUTO_BEACON_ADDR_LIST": "NO", "EPICS_CAS_BEACON_ADDR_LIST": "127.0.0.1"}


class _Context(_CaprotoContext):
    """caproto's context with paced circuits, per-circuit socket limits, and a
    receive-only socket on each interface's broadcast address (:mod:`._ca_udp`)."""

    CircuitClass = _Circuit
    #: ``on_circuit_closed("host:port")`` when a client's connection ends (its locks go).
    on_circuit_closed: Any = None

    def __init__(self, pvdb: Any, interfaces: Any = None, lane_index: LaneIndex | None = None) -> None:
        super().__init__(pvdb, interfaces)
        #: the circuits' update lanes by PV name (ADR 0029); None: no lanes
        self.lane_index = lane_index
        self.broadcast_transports: dict[str, asyncio.DatagramTransport] = {}
        #: interfaces whose search sockets (unicast and broadcast) are bound
        self.udp_ready: set[str] = set()

    async def _create_broadcaster_transport(self, interface: str) -> None:
        await super()._create_broadcaster_transport(interface)
        # searches to the broadcast address reach every server of the host; replies
        # still leave through the interface's own socket (caproto's udp_socks)
        old = self.broadcast_transports.pop(interface, None)
        if old is not None:
            old.close()
        address = broadcast_of(interface)
        try:
            if address is not None:
                sock = broadcast_socket(address, self.ca_server_port)
                transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                    functools.partial(_DatagramProtocol, parent=self, identifier=interface,
                                      queue=self.broadcaster_datagram_queue), sock=sock)
                self.broadcast_transports[interface] = transport
        except OSError as exc:  # searches by unicast still work
            log.warning("CA searches to %s:%s are not received: %s", address, self.ca_server_port, exc)
        finally:
            self.udp_ready.add(interface)

    async def run(self, *args: Any, **kwargs: Any) -> None:
        try:
            await super().run(*args, **kwargs)
        finally:
            for transport in self.broadcast_transports.values():
                transport.close()
            self.broadcast_transports.clear()

    async def tcp_handler(self, client: Any, addr: Any) -> None:
        writer = getattr(client, "writer", None)
        if writer is not None:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CIRCUIT_SNDBUF)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            writer.transport.set_write_buffer_limits(high=CIRCUIT_WRITE_HIGH_WATER)
        try:
            await super().tcp_handler(client, addr)
        finally:
            end_lane = getattr(client, "ctlshell_end_lane", None)
            if end_lane is not None:  # the lane's socket of the connection goes with it
                end_lane()
            # here, not in circuit_disconnected: caproto 1.3.0 skips that when the
            # client closes first (cancelling the subscription task cancels this one)
            if self.on_circuit_closed is not None:
                try:
                    self.on_circuit_closed(f"{addr[0]}:{addr[1]}")
                except Exception:
                    log.exception("releasing the locks of %s failed", addr)


class CaServer:
    """Serves a :class:`PVStore` over Channel Access.

    Parameters
    ----------
    store : PVStore
    config : Config
        ``server_interfaces`` and ``ca_server_port`` are used.
    on_served : callable, optional
        ``on_served(name)``, on the loop, each time a name is served from now on (a PV
        added, or hosted again after its removal): this process's own CA client
        renews its channel of that name (libca would look for it only after up to 10 s).
    """

    def __init__(self, store: PVStore, config: Config, on_served: Callable[[str], None] | None = None) -> None:
        self._store = store
        self._on_served = on_served
        #: a name served by this server alone, for this process's CA client to keep open
        #: (ADR 0028): libca closes its circuit to a server once the server disconnected
        #: the last channel on it, and a channel found while that circuit closes lands on
        #: it and then waits up to 10 s in libca's disconnect governor
        self.anchor = f"ctlshell:{os.getpid()}:{uuid.uuid4().hex[:12]}:circuit"
        self._config = config
        self._ctx: _Context | None = None
        self._task: asyncio.Task[None] | None = None
        self._channels: dict[str, Any] = {}
        self._dirty: dict[str, Reading] = {}
        self._lanes = LaneIndex()
        self._flush_scheduled = False
        #: one publication at a time: a client's write completes only after the one in
        #: progress (whose readings are popped but perhaps not yet written) has ended
        self._flushing = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def port(self) -> int | None:
        return getattr(self._ctx, "port", None)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- lifecycle (on the loop) ----------------------------------------------------
    async def start(self, timeout: float = 5.0) -> None:
        """Bind and start serving; returns once searches are answered."""
        if self.running:
            return
        self._loop = asyncio.get_running_loop()
        interfaces = list(self._config.server_interfaces)
        # caproto reads its beacon list from the environment while it starts: on
        # loopback, without these it would beacon to every interface's broadcast
        # address. Set only until it has started: libca reads them too and warns
        # "Duplicate EPICS CA Address list entry 127.0.0.1:5065" at its first use.
        borrowed = [key for key in ("EPICS_CAS_AUTO_BEACON_ADDR_LIST", "EPICS_CAS_BEACON_ADDR_LIST")
                    if key not in os.environ] if loopback_only(self._config.server_interfaces) else []
        os.environ.update({key: BEACON_ENV[key] for key in borrowed})
        try:
            await self._start(interfaces, timeout)
        finally:
            for key in borrowed:
                os.environ.pop(key, None)

    async def _start(self, interfaces: list[str], timeout: float) -> None:
        _add_filter_once("caproto.circ", _QuietRefusals)
        _add_filter_once("caproto.ctx", _QuietBeacons)
        for pv in self._store:
            self._attach(pv)
        self._channels[self.anchor] = anchor_channel()
        self._ctx = _Context(self._channels, interfaces, self._lanes)
        self._ctx.ca_server_port = self._config.ca_server_port
        self._ctx.on_circuit_closed = self._store.release_locks_of  # a client gone: its locks go
        self._task = asyncio.create_task(self._ctx.run(), name="ctlshell-ca-server")
        self._store.watch(self._on_add, self._on_remove)
        loop = asyncio.get_running_loop()  # the one start() keeps in self._loop
        deadline = loop.time() + timeout
        while not self._ctx.udp_socks or len(self._ctx.udp_ready) < len(set(interfaces)):
            if self._task.done():
                exc = self._task.exception() if not self._task.cancelled() else None
                raise OSError(f"CA server failed to start on port {self._config.ca_server_port}: {exc}")
            if loop.time() > deadline:
                raise OSError(f"CA server did not start within {timeout} s")
            await asyncio.sleep(0.005)
        if self.port != self._config.ca_server_port:  # normal with many servers on a host
            log.info("CA TCP port %s is taken; serving on %s (searches on UDP %s reach it)",
                     self._config.ca_server_port, self.port, self._config.ca_server_port)
        log.info("CA server listening on %s port %s (searches: %s)", interfaces, self.port,
                 [*interfaces, *[broadcast_of(i) for i in interfaces if broadcast_of(i)]])

    async def stop(self) -> None:
        """Stop serving: clients see their circuits close. Idempotent."""
        self._store.unwatch(self._on_add, self._on_remove)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        if self._ctx is not None:
            for circuit in list(self._ctx.circuits):  # caproto leaves client sockets open
                try:
                    circuit.end_lane()
                    circuit.client.writer.close()
                except Exception:
                    pass
        for pv in list(self._store):
            pv.remove_listener(self._on_change)

    # -- mirroring -------------------------------------------------------------------
    def _attach(self, pv: SoftPV) -> None:
        channel = make_channel(pv)
        channel.flush_pending = self._flush
        channel.lanes = self._lanes
        self._channels[pv.name] = channel
        pv.add_listener(self._on_change)
        self._served([pv.name])

    def _served(self, names: Any) -> None:
        if self._on_served is None:
            return
        for name in names:
            try:
                self._on_served(name)
            except Exception:
                log.exception("renewing the client channel of %s failed", name)

    def _detach(self, pv: SoftPV) -> None:
        pv.remove_listener(self._on_change)
        self._channels.pop(pv.name, None)

    def _on_add(self, pv: SoftPV) -> None:
        self._call_on_loop(self._attach, pv)

    def _on_remove(self, pv: SoftPV) -> None:
        self._call_on_loop(self._remove_now, pv)

    def _remove_now(self, pv: SoftPV) -> None:
        self._detach(pv)
        self._disconnect_clients({pv.name})

    def _disconnect_clients(self, names: set[str]) -> None:
        if self._ctx is None:
            return
        # clients connected to a removed PV see it disconnect
        for circuit in list(self._ctx.circuits):
            circuit.lane_forget(names)  # no lane update after the disconnect
            for chan in list(circuit.circuit.channels.values()):
                if chan.name in names:
                    asyncio.ensure_future(circuit.send(caproto.ServerDisconnResponse(chan.cid)))

    # -- channels that are not SoftPVs (caproto groups, served as they are) ----------------
    def has_channel(self, name: str) -> bool:
        return name in self._channels

    def add_channels(self, pvdb: dict[str, Any]) -> None:
        """Serve caproto ChannelData objects as they are (on the loop)."""
        self._channels.update(pvdb)
        self._served(list(pvdb))

    def remove_channels(self, names: list[str]) -> None:
        """Stop serving channels added with :meth:`add_channels` (on the loop)."""
        for name in names:
            self._channels.pop(name, None)
        self._disconnect_clients(set(names))

    def _call_on_loop(self, fn: Any, *args: Any) -> None:
        call_on_loop(self._loop, fn, *args)

    def _on_change(self, reading: Reading, origin: object) -> None:
        """A SoftPV changed (any thread): publish its newest reading once, soon."""
        name = reading.address.partition("://")[2]
        channel = self._channels.get(name)
        if channel is None:
            return
        lanes = self._lanes.lanes(name)
        if lanes:  # plain double monitors: sent from this thread (ADR 0029)
            encoded: dict[Any, Any] = {}
            for lane in lanes:
                lane.offer(name, reading, encoded)
        if origin is channel:
            return  # the CA write path publishes its own write
        if not self._lanes.lane_only(name):
            loop_has_work()  # caproto's path: the setting thread lets the loop publish it
        self._dirty[name] = reading
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._call_on_loop(self._schedule_flush)

    def _schedule_flush(self) -> None:
        self._flush_scheduled = False
        if self._mark_stale():
            asyncio.ensure_future(self._flush())

    def _mark_stale(self) -> bool:
        """Mark the channels of the changed scalars that caproto serves no monitor of as
        stale (they catch up when caproto next reads them); the other changes stay for
        :meth:`_flush`. True when some do."""
        dirty = self._dirty
        keep = []
        while dirty:
            try:
                name, reading = dirty.popitem()  # atomic against writers on other threads
            except KeyError:
                break
            channel = self._channels.get(name)
            if channel is None or getattr(channel, "published", None) is reading:
                continue
            if not self._left_stale(channel, name):
                keep.append((name, reading))
        for name, reading in keep:
            dirty.setdefault(name, reading)  # unless a newer one came meanwhile
        return bool(keep)

    def _left_stale(self, channel: Any, name: str) -> bool:
        """A scalar's channel caproto serves no monitor of is only marked stale: it
        catches up when caproto next reads it (a read, a new subscription)."""
        if getattr(channel, "lazy", False) and self._lanes.lane_only(name):
            channel.stale = True
            return True
        return False

    async def _flush(self) -> None:
        async with self._flushing:
            self._flush_scheduled = False
            while self._dirty:
                name, reading = self._dirty.popitem()  # atomic against writers on other threads
                channel = self._channels.get(name)
                if channel is not None and getattr(channel, "published", None) is not reading:
                    if self._left_stale(channel, name):
                        continue
                    try:
                        # a PV whose monitors the lane serves alone: the value is kept
                        # for reads and new monitors, nothing is queued through caproto
                        await write_reading(channel, reading, publish=not self._lanes.lane_only(name))
                    except Exception:
                        log.exception("publishing %s on CA failed", name)
