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
import struct
import time
from typing import Any

import caproto
from caproto.asyncio.server import Context as _CaprotoContext
from caproto.asyncio.server import VirtualCircuit as _CaprotoCircuit
from caproto.asyncio.utils import _DatagramProtocol
from caproto.server.common import DisconnectedCircuit

from ..core import Config, PVStore, Reading, SoftPV, ValidationError
from ._ca_channels import make_channel, write_reading
from ._ca_udp import broadcast_of, broadcast_socket
from ._loop import call_on_loop, loopback_only

__all__ = ["CaServer"]

log = logging.getLogger(__name__)

#: Kernel send buffer per client circuit. Small, so a client that reads slowly
#: back-pressures the server (which then coalesces) instead of a megabyte of old
#: updates queuing in the kernel.
CIRCUIT_SNDBUF = 32 * 1024
#: Bytes asyncio may hold for a circuit before the sender waits: none, so that the
#: kernel's counters below see everything not yet sent.
CIRCUIT_WRITE_HIGH_WATER = 0
#: How often a paced circuit looks at its socket again, seconds.
PACE_POLL = 0.002
#: Unread bytes a client may have before the circuit waits (one 1000-double update).
PACE_SLACK = 8 * 1024
#: With the window between half and nearly full and unchanged this long, send anyway;
#: the wait doubles (up to the maximum) while the client stays behind.
PACE_PROBE_MIN, PACE_PROBE_MAX = 0.02, 0.5
# struct tcp_info (linux/tcp.h): tcpi_notsent_bytes and tcpi_snd_wnd (Linux >= 5.4)
_TCPI_NOTSENT, _TCPI_SND_WND, _TCPI_LEN = 144, 228, 232


class _QuietRefusals(logging.Filter):
    """A refused client write is normal operation: log one line, not a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ValidationError):
            log.warning("refused a CA write: %s", exc)
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


class _Circuit(_CaprotoCircuit):
    """A client circuit that sends the newest update per subscription when the client
    can take it.

    caproto's own loop batches for up to 10 ms (its latency floor) and keeps writing
    while kernel buffers absorb the data, so a slow reader ends up seconds behind.
    Here, before collecting updates, the circuit waits until the client has taken
    what was sent: nothing unsent in the kernel and the client's receive window
    (read from TCP_INFO) open to within one update of its largest, or half open and
    unchanged for a probe interval (see :meth:`_client_busy`). While it waits, each
    subscription keeps only its newest update (``max_subscription_backlog`` of 1), so
    what goes out is always current. A client that keeps up never waits.
    """

    _max_window = 0
    _pacing = True
    _window_seen = -1
    _window_since = 0.0
    _probe = 0.0

    # A client's request can cross the server's disconnect of a channel whose PV was
    # removed. caproto then looks the channel or the PV up again in its error path,
    # fails there too, and ends the circuit's command loop: every other channel of
    # that client would hang. The two overrides below answer or drop such requests.
    async def _command_queue_iteration(self, command: Any) -> Any:
        sid = getattr(command, "sid", None)
        if sid is not None and sid not in self.circuit.channels_sid:
            log.debug("%s from %s for a channel already closed (sid %s)", type(command).__name__,
                      self.client_hostname, sid)
            return None
        return await super()._command_queue_iteration(command)

    async def _process_command(self, command: Any) -> Any:
        if isinstance(command, (caproto.ReadNotifyRequest, caproto.ReadRequest)):
            channel = self._read_through(command)
            if channel is not None:
                # the PV's read handler (a daemon item reading its hardware) may take its
                # time: answer from a task of the circuit's own, as caproto does for
                # writes, so this client's other requests are not held up behind it
                self.tasks.create(self._read_then_answer(command, channel))
                return None
        return await self._process_plain(command)

    def _read_through(self, command: Any) -> Any:
        """The served channel of a read whose PV has a read handler, else None."""
        chan = self.circuit.channels_sid.get(getattr(command, "sid", None))
        if chan is None:
            return None
        try:
            channel = self.context[chan.name]
        except KeyError:
            return None
        softpv = getattr(channel, "softpv", None)
        return channel if softpv is not None and softpv.has_read_handler else None

    async def _read_then_answer(self, command: Any, channel: Any) -> None:
        try:
            reading = await channel.softpv.client_read()
            if getattr(channel, "published", None) is not reading:
                await write_reading(channel, reading)  # monitors see the fresh value too
        except Exception as exc:  # the handler answers with the cache itself; this is a bug
            log.warning("reading %s for a CA client failed: %s: %s", channel.softpv.name,
                        type(exc).__name__, exc)
        try:
            response = await self._process_plain(command)
            if response and self.connected:
                await self.send(*response)
        except DisconnectedCircuit:
            pass  # the client left while its read was in progress
        except Exception as exc:
            log.debug("answering a read of %s failed: %s", channel.softpv.name, exc)

    async def _process_plain(self, command: Any) -> Any:
        try:
            return await super()._process_command(command)
        except KeyError:  # caproto's CaprotoKeyError is one
            chan = self.circuit.channels_sid.get(getattr(command, "sid", None))
            if chan is None or self._serves(chan.name):
                raise  # another KeyError (a hook's own): caproto reports it to the client
            # the channel is still open here, its PV already gone (the disconnect is on its way)
            log.debug("%s from %s for removed PV %s", type(command).__name__, self.client_hostname, chan.name)
            if isinstance(command, caproto.ClearChannelRequest):
                return [chan.clear()]
            return None

    def _serves(self, name: str) -> bool:
        try:
            self.context[name]  # caproto's lookup, record.FIELD included
        except KeyError:
            return False
        return True

    def _socket(self) -> socket.socket | None:
        writer = getattr(self.client, "writer", None)
        return None if writer is None else writer.get_extra_info("socket")

    def _client_busy(self, sock: socket.socket) -> bool:
        try:
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCPI_LEN)
        except (OSError, AttributeError):
            self._pacing = False  # not Linux, or the socket is gone: send as caproto would
            return False
        if len(info) < _TCPI_LEN:
            self._pacing = False
            return False
        notsent, = struct.unpack_from("I", info, _TCPI_NOTSENT)
        window, = struct.unpack_from("I", info, _TCPI_SND_WND)
        self._max_window = max(self._max_window, window)
        if notsent > 0:
            return True  # the client's buffer is full: nothing more fits
        if window >= self._max_window - PACE_SLACK:
            self._probe = PACE_PROBE_MIN
            return False  # the client has taken (nearly) everything
        now = time.monotonic()
        if window != self._window_seen:
            self._window_seen, self._window_since = window, now
        if window < self._max_window // 2:
            return True  # more than half its buffer is unread
        # Linux re-advertises a reopening window only in doubling steps, so a drained
        # client can look half full for ever: a send now and then gets a fresh ACK. Each
        # probe that finds the client still behind doubles the wait for the next, so a
        # slow client drains its backlog instead of being fed at its own pace.
        if now - self._window_since < max(self._probe, PACE_PROBE_MIN):
            return True
        self._probe = min(max(self._probe, PACE_PROBE_MIN) * 2, PACE_PROBE_MAX)
        self._window_since = now
        return False

    async def subscription_queue_loop(self) -> None:
        self.events_on.set()
        queue = self.subscription_queue
        while True:
            ref = await queue.get()
            sock = self._socket()
            while self._pacing and sock is not None and self._client_busy(sock):
                await asyncio.sleep(PACE_POLL)
            refs = [ref]
            while not queue.empty():
                refs.append(queue.get_nowait())
            live = {sub.subscriptionid for subs in self.subscriptions.values() for sub in subs}
            # a dead reference is an update superseded by a newer one of its subscription
            commands = [c for c in (r() for r in refs) if c is not None and c.subscriptionid in live]
            if not commands:
                continue
            try:
                await self.send(*commands)
            except DisconnectedCircuit:
                await self._on_disconnect()
                self.circuit.disconnect()
                await self.context.circuit_disconnected(self)
                return


#: caproto's beacon settings for a server on loopback only
BEACON_ENV = {"EPICS_CAS_AUTO_BEACON_ADDR_LIST": "NO", "EPICS_CAS_BEACON_ADDR_LIST": "127.0.0.1"}


class _Context(_CaprotoContext):
    """caproto's context with paced circuits, per-circuit socket limits, and a
    receive-only socket on each interface's broadcast address (:mod:`._ca_udp`)."""

    CircuitClass = _Circuit
    #: ``on_circuit_closed("host:port")`` when a client's connection ends (its locks go).
    on_circuit_closed: Any = None

    def __init__(self, pvdb: Any, interfaces: Any = None) -> None:
        super().__init__(pvdb, interfaces)
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
    """

    def __init__(self, store: PVStore, config: Config) -> None:
        self._store = store
        self._config = config
        self._ctx: _Context | None = None
        self._task: asyncio.Task[None] | None = None
        self._channels: dict[str, Any] = {}
        self._dirty: dict[str, Reading] = {}
        self._flush_scheduled = False
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
        self._ctx = _Context(self._channels, interfaces)
        self._ctx.ca_server_port = self._config.ca_server_port
        self._ctx.on_circuit_closed = self._store.release_locks_of  # a client gone: its locks go
        self._task = asyncio.create_task(self._ctx.run(), name="ctlshell-ca-server")
        self._store.watch(self._on_add, self._on_remove)
        deadline = self._loop.time() + timeout
        while not self._ctx.udp_socks or len(self._ctx.udp_ready) < len(set(interfaces)):
            if self._task.done():
                exc = self._task.exception() if not self._task.cancelled() else None
                raise OSError(f"CA server failed to start on port {self._config.ca_server_port}: {exc}")
            if self._loop.time() > deadline:
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
                    circuit.client.writer.close()
                except Exception:
                    pass
        for pv in list(self._store):
            pv.remove_listener(self._on_change)

    # -- mirroring -------------------------------------------------------------------
    def _attach(self, pv: SoftPV) -> None:
        self._channels[pv.name] = make_channel(pv)
        pv.add_listener(self._on_change)

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
            for chan in list(circuit.circuit.channels.values()):
                if chan.name in names:
                    asyncio.ensure_future(circuit.send(caproto.ServerDisconnResponse(chan.cid)))

    # -- channels that are not SoftPVs (caproto groups, served as they are) ----------------
    def has_channel(self, name: str) -> bool:
        return name in self._channels

    def add_channels(self, pvdb: dict[str, Any]) -> None:
        """Serve caproto ChannelData objects as they are (on the loop)."""
        self._channels.update(pvdb)

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
        if channel is None or origin is channel:
            return  # the CA write path publishes its own write
        self._dirty[name] = reading
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._call_on_loop(self._schedule_flush)

    def _schedule_flush(self) -> None:
        asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        self._flush_scheduled = False
        while self._dirty:
            name, reading = self._dirty.popitem()  # atomic against writers on other threads
            channel = self._channels.get(name)
            if channel is not None and getattr(channel, "published", None) is not reading:
                try:
                    await write_reading(channel, reading)
                except Exception:
                    log.exception("publishing %s on CA failed", name)
