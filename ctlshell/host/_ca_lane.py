"""The update lane of a CA client circuit: plain double monitors served from the
thread that changed the PV (ADR 0029).

caproto turns every change into a queued message for its event loop, which converts
the value, queues it again per circuit and writes it: a Python thread that sets a PV
in a loop hands the loop the GIL for every update, and most of the server's time goes
to those hand-offs. For the subscriptions most clients make (``DBR_DOUBLE`` or
``DBR_TIME_DOUBLE`` of a scalar double PV, value/log/alarm mask, no channel filter) the lane
encodes the update where the change happens (:mod:`._ca_wire`) and, when the client
has taken what was sent before, writes it to the socket at once. Otherwise it keeps
the newest update per subscription, and the circuit's pacing loop sends it when the
client can take it (ADR 0003): a slow client still gets the newest value.

Every write to the circuit's socket, from the loop or from another thread, goes
through the lane's lock, so bytes of two updates never interleave. A subscription
joins the lane only after caproto has sent its first update ("live"); until then
caproto sends its updates, and the lane keeps the newest change for it. Cancelled,
cleared or removed, it leaves the lane before caproto answers, so no update of it
follows the answer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..core import Reading
from ._ca_wire import alarm_status, event_header, payload

__all__ = ["Lane", "LaneIndex", "LaneSub"]

log = logging.getLogger(__name__)


@dataclass(eq=False)
class LaneSub:
    """One subscription served by a lane."""

    subscriptionid: int
    name: str
    sid: int
    data_type: int
    data_count: int
    #: caproto has sent its first update: the lane sends the rest
    live: bool = False


class LaneIndex:
    """The lanes holding subscriptions of each PV name: read from any thread, changed
    on the loop only (each change replaces the tuple, so readers need no lock).

    Also counts, by name, the subscriptions caproto serves (every one until the lane
    serves it): a PV none of whose subscriptions caproto serves needs no publication
    through caproto (:meth:`lane_only`), only its value kept for reads.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, tuple[Lane, ...]] = {}
        self._caproto: dict[str, int] = {}

    def hold(self, name: str) -> None:
        self._caproto[name] = self._caproto.get(name, 0) + 1

    def release(self, name: str) -> None:
        left = self._caproto.get(name, 0) - 1
        if left > 0:
            self._caproto[name] = left
        else:
            self._caproto.pop(name, None)

    def lane_only(self, name: str) -> bool:
        """No subscription of ``name`` is served by caproto."""
        return name not in self._caproto

    def lanes(self, name: str) -> tuple[Lane, ...]:
        return self._by_name.get(name, ())

    def add(self, name: str, lane: Lane) -> None:
        lanes = self._by_name.get(name, ())
        if lane not in lanes:
            self._by_name[name] = (*lanes, lane)

    def discard(self, name: str, lane: Lane) -> None:
        lanes = tuple(other for other in self._by_name.get(name, ()) if other is not lane)
        if lanes:
            self._by_name[name] = lanes
        else:
            self._by_name.pop(name, None)


class Lane:
    """The direct path of one circuit's plain subscriptions.

    Parameters
    ----------
    transport : asyncio.WriteTransport
        The circuit's transport; the loop writes through :meth:`write` only.
    loop : asyncio.AbstractEventLoop
    index : LaneIndex
    busy : callable
        ``busy()``: the client has not taken what was sent (the circuit's pacing test);
        called with the lane's lock held.
    events_on : callable
        ``events_on()``: the client has not asked for updates to stop (EVENTS_OFF).
    wake : callable
        Called on the loop when updates wait for the pacing loop.
    """

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop, index: LaneIndex,
                 busy: Callable[[], bool], events_on: Callable[[], bool], wake: Callable[[], None]) -> None:
        self.lock = threading.Lock()
        self._transport = transport
        self._loop = loop
        self._index = index
        self._busy = busy
        self._events_on = events_on
        self._wake = wake
        raw = transport.get_extra_info("socket")
        # a socket of our own on the same connection: it stays valid (never another
        # connection's number) until close(), whatever the loop does meanwhile
        self._sock: socket.socket | None = socket.socket(fileno=os.dup(raw.fileno()))
        self._sock.setblocking(False)
        self._subs: dict[int, LaneSub] = {}
        self._by_name: dict[str, dict[int, LaneSub]] = {}
        #: the newest update per subscription not yet sent
        self._pending: dict[int, bytes] = {}
        #: the end of an update the socket did not take; written before anything else
        self._tail = b""
        self._wake_scheduled = False
        self._closed = False

    # -- membership (on the loop) ----------------------------------------------------
    def get(self, subscriptionid: int) -> LaneSub | None:
        return self._subs.get(subscriptionid)

    def add(self, sub: LaneSub, newer: Reading | None) -> None:
        """Serve ``sub`` once caproto's first update of it went out; ``newer``: a change
        caproto's first update may not carry (sent right after it)."""
        with self.lock:
            if self._closed:
                return
            self._subs[sub.subscriptionid] = sub
            self._by_name.setdefault(sub.name, {})[sub.subscriptionid] = sub
            if newer is not None:
                self._pending[sub.subscriptionid] = self._encode(sub, newer, {})
        self._index.add(sub.name, self)

    def remove(self, subs: Iterable[LaneSub]) -> None:
        gone: set[str] = set()
        with self.lock:
            for sub in subs:
                if self._subs.pop(sub.subscriptionid, None) is None:
                    continue
                self._pending.pop(sub.subscriptionid, None)
                of_name = self._by_name.get(sub.name, {})
                of_name.pop(sub.subscriptionid, None)
                if not of_name:
                    self._by_name.pop(sub.name, None)
                    gone.add(sub.name)
        for name in gone:
            self._index.discard(name, self)

    def subscriptions(self) -> list[LaneSub]:
        return list(self._subs.values())

    def close(self) -> None:
        """The circuit ends: nothing more is sent; idempotent."""
        with self.lock:
            self._closed = True
            names = list(self._by_name)
            self._subs.clear()
            self._by_name.clear()
            self._pending.clear()
            self._tail = b""
            sock, self._sock = self._sock, None
        for name in names:
            self._index.discard(name, self)
        if sock is not None:
            sock.close()

    # -- sending ---------------------------------------------------------------------
    def offer(self, name: str, reading: Reading, encoded: dict[tuple[int, int], tuple[bytes, int]]) -> None:
        """A new reading of ``name`` (any thread): sent now if the client can take it.

        ``encoded`` caches payloads by (type, count) across the lanes of one change.
        """
        with self.lock:
            subs = self._by_name.get(name)
            if not subs or self._closed:
                return
            live = False
            for sub in subs.values():
                self._pending[sub.subscriptionid] = self._encode(sub, reading, encoded)
                live = live or sub.live
            if not live:
                return  # caproto still sends these; their first update has not gone out
            if not self._events_on():
                return  # EVENTS_OFF: they wait; the circuit wakes the lane at EVENTS_ON
            transport = self._transport
            if self._tail or transport.is_closing() or transport.get_write_buffer_size() or self._busy():
                self._schedule_wake()
                return
            self._send_now(self._take_live())

    def write(self, data: bytes, becoming: Iterable[int] = (), drain: bool = False) -> None:
        """Write ``data`` from the loop, after any unsent tail.

        The updates waiting for the pacing loop go too (unless the client turned
        EVENTS_OFF): before ``data`` for any write but the pacing loop's, so that what
        changed before an answer (a motor's readback before its move's completion) is
        never overtaken by it; after ``data`` for the pacing loop's write (``drain``),
        which carries the first update of ``becoming`` subscriptions: from now on the
        lane serves them.
        """
        with self.lock:
            for subscriptionid in becoming:
                sub = self._subs.get(subscriptionid)
                if sub is not None:
                    sub.live = True
            if drain:
                self._wake_scheduled = False
            waiting = self._take_live() if self._pending and self._events_on() else b""
            data = self._tail + (data + waiting if drain else waiting + data)
            self._tail = b""
            if data:
                self._transport.write(data)

    def wake(self) -> None:
        """On the loop: have the pacing loop look at the waiting updates (EVENTS_ON)."""
        with self.lock:
            self._wake_scheduled = False
        self._wake()

    def has_waiting(self) -> bool:
        return bool(self._pending) or bool(self._tail)

    def busy(self) -> bool:
        with self.lock:
            return self._busy()

    def _flush_tail(self) -> None:
        with self.lock:
            tail, self._tail = self._tail, b""
            if tail and not self._closed and not self._transport.is_closing():
                self._transport.write(tail)

    # -- with the lock held ------------------------------------------------------------
    def _encode(self, sub: LaneSub, reading: Reading, encoded: dict[tuple[int, int], tuple[bytes, int]]) -> bytes:
        key = (sub.data_type, sub.data_count)
        body_count = encoded.get(key)
        if body_count is None:
            body_count = encoded[key] = payload(sub.data_type, reading.value, reading.timestamp,
                                                int(reading.severity), alarm_status(reading.status),
                                                sub.data_count)
        body, count = body_count
        return event_header(sub.data_type, len(body), count, sub.subscriptionid) + body

    def _take_live(self) -> bytes:
        subs, out, keep = self._subs, [], {}
        for subscriptionid, update in self._pending.items():
            sub = subs.get(subscriptionid)
            if sub is not None and sub.live:
                out.append(update)
            elif sub is not None:
                keep[subscriptionid] = update
        self._pending = keep
        return b"".join(out)

    def _send_now(self, data: bytes) -> None:
        sock = self._sock
        if sock is None or not data:
            return
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:  # the client is gone: the circuit's reader ends it
            log.debug("a lane send failed: %s", exc)
            self._closed = True
            self._pending.clear()
            return
        if sent < len(data):
            self._tail = data[sent:]
            self._call_soon(self._flush_tail)

    def _wake_soon(self) -> None:
        # on the loop: the next change that finds the client busy asks again, so a wake
        # always follows the last update left waiting (the pacing loop may find nothing
        # to send for this one: a send from the setting thread took it meanwhile)
        with self.lock:
            self._wake_scheduled = False
        self._wake()

    def _schedule_wake(self) -> None:
        if not self._wake_scheduled:  # one outstanding at a time
            self._wake_scheduled = True
            self._call_soon(self._wake_soon)

    def _call_soon(self, callback: Callable[[], None]) -> None:
        try:
            self._loop.call_soon_threadsafe(callback)
        except RuntimeError:  # the loop is closed: the server is gone
            pass
