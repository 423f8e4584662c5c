"""Upstream subscriptions of Tango attributes: change events, or polling as the fallback.

Each :class:`Stream` is one subscription. Change events use Tango's *pull* model:
cppTango keeps the newest :data:`EVENT_BUFFER` events of each subscription in a
C++ ring buffer, filled without Python, so a device that pushes faster than Python
can take them never builds up a backlog (the oldest are discarded there). The
*pump* thread empties the buffers every few milliseconds and hands the readings to
the runtime loop. The *supervisor* thread connects streams, polls the attributes
that send no change events, and pings each device once a second: a device that
does not answer turns its streams DISCONNECTED; when it answers again the streams
subscribe afresh, so updates resume without user action. Neither thread touches
asyncio except through ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import tango

from ...core import Reading, Severity
from ._convert import to_reading
from ._devices import Devices
from ._errors import CONNECTION_REASONS, describe, reasons
from ._names import TangoName
from ._untraced import untraced

__all__ = ["EVENT_BUFFER", "POLL_PERIOD", "Stream", "Streams"]

#: a blocking read without the per-call telemetry refresh (see ._untraced)
_READ_ATTRIBUTE = untraced(tango.DeviceProxy.read_attribute)

log = logging.getLogger(__name__)

#: Events cppTango keeps per subscription between two drains (oldest dropped beyond).
EVENT_BUFFER = 1000
#: Seconds between reads of an attribute that sends no change events.
POLL_PERIOD = 0.5
#: Seconds between pings of a device with subscriptions; a failed ping marks it DISCONNECTED.
PING_PERIOD = 1.0
#: Seconds after a (re)subscription when the pump reads the attribute once, if no event
#: but the first (the value at subscription) has come: a monitor in the tests, under
#: load, once never got the event a command sent right after it subscribed; the read
#: shows the value such an event carried. Not done once events flow: a read could then
#: overtake events still on their way and break their order.
CATCH_UP_DELAY = 0.25
#: Reasons for which the device sends no change events of an attribute: poll it instead.
NO_EVENTS = frozenset({"API_AttributePollingNotStarted", "API_EventPropertiesNotSet"})
#: Seconds between attempts of a polled stream to subscribe to change events again:
#: a device that starts sending them (polling started, event properties set) is
#: followed by events from then on.
RESUBSCRIBE_PERIOD = 1.0


class Stream:
    """One subscription of one attribute (state owned by the pump and supervisor threads)."""

    def __init__(self, name: TangoName, deliver: Callable[[list[Reading]], None]) -> None:
        self.name = name
        self.address = str(name)
        self.deliver = deliver
        self.mode = "connecting"
        self.reason = ""       # why it is not connected (the last error)
        self.poll_reason = ""  # why it polls (the device sends no change events)
        self.event_id: int | None = None
        self.proxy: Any = None
        self.connected = False
        self.ever_connected = False
        self.overflows = 0
        self.gaps = 0
        self.next_try = 0.0
        self.next_subscribe = 0.0  # when a polled stream tries change events again
        self.last_polled: Reading | None = None  # the last polled reading
        self.last_event: Reading | None = None   # the last reading the pump delivered
        self.catch_up_at: float | None = None
        self.events = 0  # data events since the last (re)subscription
        self.closed = False

    def describe_mode(self) -> str:
        """How this stream gets updates, for ``info``."""
        if self.mode == "events":
            text = f"change events pushed by the device (client buffer {EVENT_BUFFER}"
            if self.overflows:
                text += f", overflowed {self.overflows} times: oldest events discarded"
            if self.gaps:
                text += f", {self.gaps} gaps reported by Tango"
            return text + ")"
        if self.mode == "polling":
            return f"polling every {POLL_PERIOD} s (no change events from the device: {self.poll_reason})"
        return f"connecting ({self.reason})" if self.reason else "connecting"

    def disconnected(self, why: str) -> None:
        if self.connected or not self.ever_connected:
            if self.ever_connected:
                self.deliver([Reading(self.address, None, time.time(), Severity.DISCONNECTED, "disconnected")])
            self.connected = False
        self.reason = why


class Streams:
    """The pump and supervisor threads and the streams they serve."""

    def __init__(self, devices: Devices) -> None:
        self._devices = devices
        self._streams: list[Stream] = []
        self._retired: list[Stream] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- called on the loop ------------------------------------------------------------
    def open(self, name: TangoName, on_reading: Callable[[Reading], None]) -> Stream:
        """A new stream for ``name``; its readings reach ``on_reading`` on this (the running) loop."""
        loop = asyncio.get_running_loop()

        def on_batch(batch: list[Reading]) -> None:
            if not stream.closed:  # nothing after close, even what was on its way
                for reading in batch:
                    on_reading(reading)

        def deliver(batch: list[Reading]) -> None:
            try:
                loop.call_soon_threadsafe(on_batch, batch)
            except RuntimeError:  # the loop has closed: nobody is listening any more
                pass

        stream = Stream(name, deliver)
        with self._lock:
            self._streams.append(stream)
            if not self._threads:
                self._start()
        return stream

    def find(self, name: TangoName) -> Stream | None:
        with self._lock:
            return next((s for s in self._streams if s.name == name), None)

    def remove(self, stream: Stream) -> None:
        """Stop ``stream`` now; the supervisor thread drops its Tango subscription
        (every subscribe and unsubscribe happens on that one thread)."""
        stream.closed = True
        with self._lock:
            if stream in self._streams:
                self._streams.remove(stream)
                self._retired.append(stream)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()
        with self._lock:
            streams, self._streams, self._retired = self._streams + self._retired, [], []
        for stream in streams:
            stream.closed = True
            unsubscribe(stream)

    def _start(self) -> None:
        for name, target in (("ctlshell-tango-pump", self._pump), ("ctlshell-tango-supervisor", self._supervise)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _snapshot(self) -> list[Stream]:
        with self._lock:
            return list(self._streams)

    # -- the pump thread ---------------------------------------------------------------------
    def _pump(self) -> None:
        idle = 0.0
        while not self._stop.wait(idle):
            moved = 0
            for stream in self._snapshot():
                if stream.mode == "events" and stream.event_id is not None and not stream.closed:
                    moved += self._drain(stream)
                    if stream.catch_up_at is not None and time.monotonic() >= stream.catch_up_at:
                        self._catch_up(stream)
            # a busy subscription is drained every millisecond, an idle set backs off to 10 ms
            idle = 0.001 if moved else min(max(idle * 2, 0.002), 0.01)

    def _drain(self, stream: Stream) -> int:
        try:
            events = stream.proxy.get_events(stream.event_id)
        except (tango.DevFailed, ValueError, KeyError):
            return 0  # unsubscribed meanwhile
        if not events:
            return 0
        if len(events) >= EVENT_BUFFER:
            stream.overflows += 1
        batch = []
        for event in events:
            if not event.err:
                stream.events += 1
                batch.append(to_reading(stream.address, event.attr_value))
                stream.connected = stream.ever_connected = True
                continue
            why = set(reasons(event.errors))
            if "API_MissedEvents" in why:
                stream.gaps += 1
            elif why & CONNECTION_REASONS:
                if batch:
                    stream.deliver(batch)
                    batch = []
                stream.disconnected(describe(event.errors))
            else:  # the device answered with an error of the attribute
                batch.append(Reading(stream.address, None, time.time(), Severity.INVALID, describe(event.errors)))
                stream.connected = stream.ever_connected = True
        if batch and not stream.closed:
            stream.last_event = batch[-1]
            stream.deliver(batch)
        return len(events)

    def _catch_up(self, stream: Stream) -> None:
        """Once after subscribing, on the pump thread (so after every event already
        queued): deliver the attribute's value if it is not what the last event said."""
        stream.catch_up_at = None
        if stream.events > 1:
            return  # events flow: the subscription works, and a read could overtake them
        try:
            reading = to_reading(stream.address, _READ_ATTRIBUTE(stream.proxy, stream.name.member))
        except tango.DevFailed:
            return  # the ping or the next event tells
        if stream.last_event is not None and not _same(stream.last_event, reading) and not stream.closed:
            log.debug("%s: an event was lost while subscribing; the read delivers %r", stream.address, reading)
            stream.last_event = reading
            stream.deliver([reading])

    # -- the supervisor thread -------------------------------------------------------------
    def _supervise(self) -> None:
        next_ping = 0.0
        while not self._stop.wait(0.05):
            with self._lock:
                retired, self._retired = self._retired, []
            for stream in retired:
                unsubscribe(stream)
            now = time.monotonic()
            streams = [s for s in self._snapshot() if not s.closed]
            for stream in streams:
                if stream.mode == "connecting" and now >= stream.next_try:
                    self._connect(stream)
                elif stream.mode == "polling" and now >= stream.next_subscribe:
                    self._resubscribe(stream)
                elif stream.mode == "polling" and now >= stream.next_try:
                    self._poll(stream)
            if now >= next_ping:
                next_ping = now + PING_PERIOD
                self._ping([s for s in streams if s.mode == "events"])

    def _connect(self, stream: Stream) -> None:
        name = stream.name
        try:
            stream.proxy = self._devices.proxy(name)
            stream.event_id = stream.proxy.subscribe_event(
                name.member, tango.EventType.CHANGE_EVENT, EVENT_BUFFER, tango.EventSubMode.SyncRead)
            stream.mode, stream.reason = "events", ""
            stream.catch_up_at, stream.events = time.monotonic() + CATCH_UP_DELAY, 0
        except tango.DevFailed as exc:
            why = set(reasons(exc))
            if why & NO_EVENTS or not why & CONNECTION_REASONS:
                # no events, or the device answered with an error of the attribute: poll
                # (a read shows that error as an INVALID reading)
                stream.mode = "polling"
                stream.poll_reason = sorted(why & NO_EVENTS)[0] if why & NO_EVENTS else describe(exc)
                stream.next_try = 0.0
                stream.next_subscribe = time.monotonic() + RESUBSCRIBE_PERIOD
            else:
                stream.next_try = time.monotonic() + PING_PERIOD
                stream.disconnected(describe(exc))

    def _resubscribe(self, stream: Stream) -> None:
        """A polled stream tries change events again; it keeps polling while the device refuses."""
        stream.next_subscribe = time.monotonic() + RESUBSCRIBE_PERIOD
        try:
            event_id = stream.proxy.subscribe_event(
                stream.name.member, tango.EventType.CHANGE_EVENT, EVENT_BUFFER, tango.EventSubMode.SyncRead)
        except tango.DevFailed:
            return
        log.debug("%s: the device sends change events now; polling stops", stream.address)
        stream.event_id, stream.mode, stream.poll_reason = event_id, "events", ""
        stream.catch_up_at, stream.events = time.monotonic() + CATCH_UP_DELAY, 0

    def _poll(self, stream: Stream) -> None:
        stream.next_try = time.monotonic() + POLL_PERIOD
        try:
            attr = _READ_ATTRIBUTE(stream.proxy, stream.name.member)
        except tango.DevFailed as exc:
            if set(reasons(exc)) & CONNECTION_REASONS:
                stream.disconnected(describe(exc))
                stream.last_polled = None
                return
            # the device answered, with an error of this attribute (TangoTest's no_value):
            # an INVALID reading with the device's error, once until it changes
            failed = Reading(stream.address, None, time.time(), Severity.INVALID, describe(exc))
            if not stream.connected or not _same(stream.last_polled, failed):
                stream.last_polled = failed
                stream.connected = stream.ever_connected = True
                if not stream.closed:
                    stream.deliver([failed])
            return
        reading = to_reading(stream.address, attr)
        # like a change event: only what changed, and the first value after (re)connecting
        if not stream.connected or not _same(stream.last_polled, reading):
            stream.last_polled = reading
            stream.connected = stream.ever_connected = True
            if not stream.closed:
                stream.deliver([reading])

    def _ping(self, streams: list[Stream]) -> None:
        by_device: dict[Any, list[Stream]] = {}
        for stream in streams:
            by_device.setdefault(stream.name.device_key, []).append(stream)
        for group in by_device.values():
            try:
                group[0].proxy.ping()
            except tango.DevFailed as exc:
                for stream in group:
                    stream.disconnected(describe(exc))
                continue
            for stream in group:
                if not stream.connected and stream.ever_connected and not stream.closed:
                    # the device is back: subscribe afresh (the first event is its value now)
                    unsubscribe(stream)
                    stream.mode = "connecting"
                    self._connect(stream)


def _same(last: Reading | None, new: Reading) -> bool:
    """Whether a polled reading repeats the previous one (value, severity and status)."""
    if last is None or (last.severity, last.status) != (new.severity, new.status):
        return False
    a, b = last.value, new.value
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and a.dtype == b.dtype and bool(np.array_equal(a, b))
    return type(a) is type(b) and a == b


def unsubscribe(stream: Stream) -> None:
    """Drop the Tango subscription of ``stream`` (blocking, never raises)."""
    event_id, stream.event_id = stream.event_id, None
    if event_id is not None and stream.proxy is not None:
        try:
            stream.proxy.unsubscribe_event(event_id)
        except (tango.DevFailed, KeyError, ValueError):
            pass
