"""A CA monitor on libca directly: each update is decoded and handed on, on libca's
own thread, with no per-update hop through the loop.

aioca's ``camonitor`` converts every update with epicscorelibs (7.6 µs), queues it
under a lock, wakes the loop and calls back there; each of its subscriptions holds a
deque, a lock, two closures and a task. At 10 000 monitored PVs that made a ctlshell
client 1.47–1.52 times pyepics' memory (8.7 KiB per PV against 4.1) and a third more
CPU per update. Here a scalar's update is decoded by :mod:`._dbr` (one
``struct.unpack``); any other by epicscorelibs, as aioca does. The receiver must
accept calls from any thread (ctlshell's channel entries do, ADR 0011).

A monitor uses aioca's channel of its name (the one ``caget`` and ``caput`` share) and
is one of that channel's connection listeners, as aioca's own subscriptions are: its
libca subscription is created when the channel first connects (libca keeps it across
reconnections), a lost connection is reported as ``aioca.CANothing(ECA_DISCONN)``, and
aioca's purge of the channel closes it before clearing the channel. This module is the
reach into aioca's ``get_channel`` and the channel's listener list, and into libca's
``ca_create_subscription``, for monitors; ``tests/integration/test_ca_monitor.py``
checks it against the installed aioca and a caproto IOC. It knows nothing of ctlshell's model.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
from collections.abc import Callable
from typing import Any

from .. import _dso  # noqa: F401  (first: epicscorelibs.path loads without setuptools)
import aioca
from aioca._catools import get_channel
from epicscorelibs.ca import cadef

from . import _dbr, _thread_state

__all__ = ["Monitor"]

log = logging.getLogger(__name__)

#: What aioca's camonitor asks for FORMAT_TIME by default: value and alarm changes.
EVENTS = cadef.DBE_VALUE | cadef.DBE_ALARM

_OPENING, _OPEN, _CLOSED = 0, 1, 2


class _Flusher:
    """One ``ca_flush_io`` for every subscription created or cleared in one pass of the
    loop (aioca flushes once per subscription: 10 000 flushes for 10 000 monitors).

    The flush due is remembered with its loop: a loop that ended before running it
    (a session shut down, a test's own loop) does not hold back the next loop's."""

    due_on: asyncio.AbstractEventLoop | None = None

    @classmethod
    def soon(cls) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop runs here (a purge at exit): flush now
            cadef.ca_flush_io()
            return
        if cls.due_on is not loop:
            cls.due_on = loop
            loop.call_soon(cls._flush)

    @classmethod
    def _flush(cls) -> None:
        cls.due_on = None
        cadef.ca_flush_io()


class Monitor:
    """The monitor of one CA channel, in its native type with time stamp and alarm
    (``DBR_TIME_*``, the whole array as the server sends it).

    Parameters
    ----------
    name : str
        The PV name.
    on_value : callable
        Called with each update, on libca's thread (a :class:`~._dbr.Time` for a
        scalar, else epicscorelibs' ``AugmentedValue``), and with an
        ``aioca.CANothing`` on the loop when the channel disconnects.

    Made and closed on the loop aioca runs on.
    """

    __slots__ = ("_code", "_event", "_lean", "_state", "_to_value", "channel", "name", "on_value")

    def __init__(self, name: str, on_value: Callable[[Any], None]) -> None:
        self.name = name
        self.on_value = on_value
        self._state = _OPENING
        self._event = ctypes.c_void_p()
        self._code = -1
        self._lean: Callable[[int], Any] | None = None
        self._to_value: Callable[[Any, int, int], Any] | None = None
        self.channel = get_channel(name)  # its search starts now, if it is new
        self.channel._add_subscription(self)  # noqa: SLF001 (aioca's connection listeners)
        if self.channel.connected():
            self._open()

    def _open(self) -> None:
        channel = self.channel
        try:
            code, self._lean, self._to_value = _dbr.request_of(channel, self.name, aioca.FORMAT_TIME)
        except cadef.Disconnected:  # lost again already: opened at the next connection
            return
        self._code = code
        # libca holds a borrowed pointer to self: the channel's listener list keeps
        # self alive until close(), which clears the subscription first
        cadef.ca_create_subscription(code, 0, channel, EVENTS, _on_event, ctypes.py_object(self),
                                     ctypes.byref(self._event))
        self._state = _OPEN
        _Flusher.soon()

    def _on_connect(self, connected: bool) -> None:
        """aioca's call, on the loop, at each change of the channel's connection."""
        if self._state == _OPENING:
            if connected:
                self._open()
        # a loss is reported only if the channel is still down: an update of the
        # reconnected channel may already have reached on_value on libca's thread
        elif self._state == _OPEN and not connected and cadef.ca_state(self.channel) != cadef.cs_conn:
            self._deliver(aioca.CANothing(self.name, cadef.ECA_DISCONN))

    def _deliver(self, value: Any) -> None:
        try:
            self.on_value(value)
        except Exception:  # the receiver's fault: logged, the monitor stays
            log.exception("the receiver of ca://%s failed", self.name)

    def close(self) -> None:
        """Stop the monitor (on the loop; also aioca's call when it purges the channel,
        before it clears the channel). No update reaches ``on_value`` after this returns."""
        state, self._state = self._state, _CLOSED
        if state == _CLOSED:
            return
        try:
            self.channel._remove_subscription(self)  # noqa: SLF001
        except KeyError:  # aioca's purge is closing its listeners
            pass
        if state == _OPEN:
            cadef.ca_clear_subscription(self._event)  # waits for a callback in progress
            _Flusher.soon()


@cadef.event_handler
def _on_event(args: Any) -> None:  # pragma: no cover (libca's thread)
    """libca's callback of one update: decode it here and hand it on."""
    _thread_state.keep()
    self: Monitor = args.usr
    if self._state != _OPEN:
        return
    if args.status != cadef.ECA_NORMAL:
        log.warning("ca://%s: update with status %s ignored", self.name, args.status)
        return
    try:
        lean = self._lean
        if lean is not None and args.type == self._code and args.count == 1:
            value = lean(args.raw_dbr)
        else:
            if self._to_value is None:  # a scalar's monitor sent otherwise (its PV changed)
                self._to_value = _dbr.converter(self.channel, aioca.FORMAT_TIME)
            value = self._to_value(args.raw_dbr, args.type, args.count)
    except Exception:  # a value epicscorelibs cannot convert: that update is lost, not the monitor
        log.exception("ca://%s: an update could not be decoded", self.name)
        return
    self._deliver(value)
