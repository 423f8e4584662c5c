"""The client circuit of the hosted CA server: pacing, and every caproto internal it uses.

This is the one module that reaches inside caproto's asyncio circuit (its
subscription loop, command hooks and task handling; what else of caproto's internals
``host`` still uses is listed in ADR 0019). Supported caproto versions: those in ``pyproject.toml`` (the
server modules these hooks touch are identical from 1.2.0 to 1.3.0); the tests in
``tests/integration/test_ca_disconnects.py``, ``test_slow_client.py`` and
``test_host_ca.py`` exercise each hook, and ``tests/integration/test_caproto_versions.py`` runs them on the lowest
supported version. What it overrides, and why:

- ``subscription_queue_loop``: the pacing (ADR 0003): the newest update per
  subscription goes out when the client has taken the previous ones.
- ``run`` / ``_on_disconnect``: the circuit owns that loop's task (see below).
- ``_start_write_task``: a client gone before its put is answered, or a put that
  crossed its PV's removal, is no error.
- ``send``: nothing is written to a connection already lost.
- ``_command_queue_iteration`` / ``_process_command``: requests that cross a PV's
  removal, reads of PVs with a read handler answered from a task of their own, and the
  update lane's subscriptions (:mod:`._ca_lane`, ADR 0029) joining and leaving it.
- ``_send_buffers``: every write goes through the lane's lock.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
from typing import Any

import caproto
from caproto.asyncio.server import VirtualCircuit as _CaprotoCircuit
from caproto.server.common import DisconnectedCircuit

from ._ca_channels import write_reading
from ._ca_lane import Lane, LaneSub
from ._ca_wire import LANE_TYPES

__all__ = ["PacedCircuit", "PACE_POLL", "PACE_SLACK"]

log = logging.getLogger(__name__)

# struct tcp_info (linux/tcp.h): tcpi_notsent_bytes and tcpi_snd_wnd (Linux >= 5.4)
_TCPI_NOTSENT, _TCPI_SND_WND, _TCPI_LEN = 144, 228, 232

#: How often a paced circuit looks at its socket again, seconds.
PACE_POLL = 0.002
#: Unread bytes a client may have before the circuit waits (one 1000-double update).
PACE_SLACK = 8 * 1024
#: the subscription masks whose updates the lane sends (value, log, alarm: what
#: ``write_reading`` publishes)
_LANE_MASK = 0b111


def _woken() -> None:
    """Queued in place of an update: the pacing loop looks at the lane's waiting ones."""
    return None


#: With the window between half and nearly full and unchanged this long, send anyway;
#: the wait doubles (up to the maximum) while the client stays behind.
PACE_PROBE_MIN, PACE_PROBE_MAX = 0.02, 0.5


_ANSWERS = frozenset({caproto.ReadNotifyResponse, caproto.ReadResponse, caproto.WriteNotifyResponse})


def _answerable(circuit: Any, commands: tuple[Any, ...]) -> tuple[Any, ...]:
    """``commands`` without answers to requests of a channel the client cleared meanwhile.

    A read (or a put with callback) still being served when the client clears its
    channel (a client that exits, a channel closed at shutdown) leaves an answer whose
    ioid caproto no longer knows: its ``send`` raises ``LocalProtocolError('Unknown
    Channel ioid')``, which ends the circuit's command loop and prints a traceback. The
    client asked for no answer any more; libca's IOC drops it too.
    """
    if not any(type(c) in _ANSWERS for c in commands):  # updates: one set look-up each
        return commands
    known = circuit._ioids  # noqa: SLF001 -- caproto's map of the ioids awaiting an answer
    return tuple(c for c in commands if type(c) not in _ANSWERS or c.ioid in known)


class PacedCircuit(_CaprotoCircuit):
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
        if isinstance(command, caproto.EventAddRequest):
            response = await self._process_plain(command)
            self._caproto_serves(command)
            self._lane_join(command)
            return response
        if isinstance(command, caproto.EventsOnRequest):
            response = await self._process_plain(command)
            if self.lane is not None:  # what changed while events were off goes now
                self.lane.wake()
            return response
        if isinstance(command, caproto.EventCancelRequest):
            # out of the lane before caproto answers: no update follows the answer
            self._lane_leave(lambda sub: sub.subscriptionid == command.subscriptionid)
            self._caproto_stops(lambda subid, sid: subid == command.subscriptionid)
        elif isinstance(command, caproto.ClearChannelRequest):
            self._lane_leave(lambda sub: sub.sid == command.sid)
            self._caproto_stops(lambda subid, sid: sid == command.sid)
        elif isinstance(command, (caproto.ReadNotifyRequest, caproto.ReadRequest)):
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

    # -- the update lane (ADR 0029) ------------------------------------------------------
    lane: Lane | None = None
    #: set by the pacing loop for its next write: subscriptions whose first update it
    #: carries, and whether the lane's waiting updates go with it
    _lane_becoming: list[int] | tuple[()] = ()
    _lane_drain = False

    #: subscriptions caproto serves (all but the lane's live ones): id -> (name, sid)
    _served: dict[int, tuple[str, int]] | None = None

    def _caproto_serves(self, command: Any) -> None:
        index = getattr(self.context, "lane_index", None)
        chan = self.circuit.channels_sid.get(command.sid)
        if index is None or chan is None or command.subscriptionid not in self.circuit.event_add_commands:
            return  # refused: caproto serves nothing
        if self._served is None:
            self._served = {}
        if command.subscriptionid not in self._served:
            self._served[command.subscriptionid] = (chan.name, command.sid)
            index.hold(chan.name)
            channel = self.context.pvdb.get(chan.name)
            if getattr(channel, "stale", False):  # a change while it subscribed: published now
                self.tasks.create(channel.catch_up())

    def _caproto_stops(self, which: Any) -> None:
        served, index = self._served, getattr(self.context, "lane_index", None)
        if not served or index is None:
            return
        for subid, (name, sid) in list(served.items()):
            if which(subid, sid):
                del served[subid]
                index.release(name)

    def end_lane(self) -> None:
        """The circuit ends: the lane closes, caproto serves none of its subscriptions."""
        if self.lane is not None:
            self.lane.close()
        self._caproto_stops(lambda subid, sid: True)

    def _start_lane(self) -> None:
        index = getattr(self.context, "lane_index", None)
        transport = getattr(getattr(self.client, "writer", None), "transport", None)
        if index is None or transport is None or transport.get_extra_info("socket") is None:
            return
        sock = self._socket()
        self.lane = Lane(transport, asyncio.get_running_loop(), index,
                         busy=lambda: self._pacing and sock is not None and self._client_busy(sock),
                         events_on=self.events_on.is_set, wake=self._lane_wake)
        self.client.ctlshell_end_lane = self.end_lane  # called by the context when the client's handler ends

    def _lane_wake(self) -> None:
        try:
            self.subscription_queue.put_nowait(_woken)
        except asyncio.QueueFull:
            pass  # the loop has updates to send anyway, and looks at the lane's then

    def _lane_join(self, command: Any) -> None:
        """A new subscription caproto accepted: into the lane if the lane can serve it."""
        lane = self.lane
        if lane is None or command.data_type not in LANE_TYPES or not command.mask & _LANE_MASK:
            return
        chan = self.circuit.channels_sid.get(command.sid)
        if chan is None or any(chan.channel_filter):
            return
        try:
            channel = self.context[chan.name]
        except KeyError:
            return
        softpv = getattr(channel, "softpv", None)
        if (softpv is None or softpv.name != chan.name or channel.data_type != caproto.ChannelType.DOUBLE
                or softpv.metadata.is_array):
            # arrays stay on caproto's path: their updates are big enough that the
            # client's window is rarely open at a change, and the pacing loop, not the
            # lane, then sends them (measured: 1/3 of caproto's path's rate)
            return
        reading = softpv.read()
        # caproto's first update carries what the channel published; a change not yet
        # published is sent by the lane right after it
        newer = None if getattr(channel, "published", None) is reading else reading
        lane.add(LaneSub(command.subscriptionid, chan.name, command.sid, int(command.data_type),
                         int(command.data_count)), newer)

    def _lane_leave(self, which: Any) -> None:
        lane = self.lane
        if lane is not None:
            lane.remove([sub for sub in lane.subscriptions() if which(sub)])

    def lane_forget(self, names: set[str]) -> None:
        """PVs removed: their subscriptions leave the lane (before the disconnect goes)."""
        self._lane_leave(lambda sub: sub.name in names)

    async def _send_buffers(self, *buffers: Any) -> None:
        lane = self.lane
        if lane is None:
            await super()._send_buffers(*buffers)
            return
        becoming, drain = self._lane_becoming, self._lane_drain
        self._lane_becoming, self._lane_drain = (), False
        async with self.client.send_lock:  # caproto's: one write and drain at a time
            lane.write(b"".join(buffers), becoming, drain)
            if becoming:  # served by the lane from now on
                self._caproto_stops(lambda subid, sid: subid in becoming)
            await self.client.writer.drain()

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

    # -- the circuit's tasks -------------------------------------------------------------
    # caproto's asyncio circuit keeps its subscription task in ``_sub_task`` and, when
    # the client goes, cancels and awaits it from ``_on_disconnect``. With the loop
    # below in its place that await fails ("await wasn't used with future", left on
    # stderr as a task exception never retrieved). So the circuit owns its pacing
    # task: caproto sees no ``_sub_task``, and the task is cancelled here, not awaited.
    _pacer: asyncio.Task[None] | None = None

    async def run(self) -> None:
        self._start_lane()
        self.tasks.create(self.command_queue_loop())
        self._pacer = self.tasks.create(self.subscription_queue_loop())

    async def _on_disconnect(self) -> None:
        await super()._on_disconnect()
        self.end_lane()
        pacer, self._pacer = self._pacer, None
        if pacer is not None and pacer is not asyncio.current_task():
            pacer.cancel()

    async def send(self, *commands: Any) -> None:
        # asyncio accepts writes to a connection already lost, counts them and from the
        # fifth on logs "socket.send() raised exception." to stderr: a flooded client
        # that vanished would get several before the reader notices. Refuse instead.
        transport = getattr(getattr(self.client, "writer", None), "transport", None)
        if transport is not None and transport.is_closing():
            raise DisconnectedCircuit("the client's connection is closed")
        answerable = _answerable(self.circuit, commands)
        if answerable or not commands:  # an empty send still writes what the lane holds
            await super().send(*answerable)

    async def _start_write_task(self, handle_write: Any) -> None:
        # caproto's write task answers the client; one that left meanwhile is no error
        async def write() -> None:
            try:
                await handle_write()
            except DisconnectedCircuit:
                log.debug("%s left before its write was answered", self.client_hostname)
            except KeyError as exc:
                # the write crossed its PV's removal: refused, and caproto's error path
                # then finds the channel closed too (its sid gone); nothing to answer
                if exc.args and exc.args[0] in self.circuit.channels_sid:
                    raise
                log.debug("a write of %s crossed its channel's removal", self.client_hostname)

        self.tasks.create(write())

    async def subscription_queue_loop(self) -> None:
        self.events_on.set()
        queue = self.subscription_queue
        while True:
            ref = await queue.get()
            sock, lane = self._socket(), self.lane
            while self._pacing and sock is not None and (
                    lane.busy() if lane is not None else self._client_busy(sock)):
                await asyncio.sleep(PACE_POLL)
            refs = [ref]
            while not queue.empty():
                refs.append(queue.get_nowait())
            # a dead reference is an update superseded by a newer one of its subscription
            commands, becoming = self._sendable(r() for r in refs)
            if not commands and (lane is None or not lane.has_waiting()):
                continue
            self._lane_becoming, self._lane_drain = becoming, True
            try:
                await self.send(*commands)
            except DisconnectedCircuit:
                # the client is gone: end here; the circuit's reader sees the closed
                # socket and tears the circuit down (caproto's tcp_handler)
                self.end_lane()
                self.client.close()
                return
            except Exception:
                # this loop is the client's only source of updates: were it to end,
                # every monitor of the client would fall silent while its channels
                # stay connected. Drop this batch, say so, go on.
                log.exception("updates to %s dropped", self.client_hostname)
            finally:
                self._lane_becoming, self._lane_drain = (), False

    def _sendable(self, commands: Any) -> tuple[list[Any], list[int]]:
        """The updates whose subscription the client still has, and the lane's
        subscriptions whose first update is among them.

        An update queued before the client cancelled its subscription, or before the
        PV's removal disconnected its channel, is dropped: caproto's protocol state
        refuses it (``KeyError`` of the channel's sid), which would end this loop. So is
        caproto's update of a subscription the lane serves (the lane sent it already).
        """
        live = {sub.subscriptionid for subs in self.subscriptions.values() for sub in subs}
        adds, channels = self.circuit.event_add_commands, self.circuit.channels_sid
        lane = self.lane
        out, becoming = [], []
        for command in commands:
            if command is None or command.subscriptionid not in live:
                continue
            add = adds.get(command.subscriptionid)
            if add is None or add.sid not in channels:
                continue
            served = lane.get(command.subscriptionid) if lane is not None else None
            if served is not None:
                if served.live:
                    continue
                becoming.append(command.subscriptionid)
            out.append(command)
        return out, becoming
