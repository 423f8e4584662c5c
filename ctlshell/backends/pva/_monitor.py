"""One upstream PVA subscription of an address: :class:`Monitor`.

p4p's raw client calls us on a pvxs worker thread when the subscription's FIFO holds
updates; that thread only wakes the runtime loop (once, however many updates arrive
meanwhile). The loop pops the FIFO (a batch per wake-up: the subscription asks pvxs
for a queue of 16), converts each update to a :class:`Reading`, hands it to the
channel cache and yields the GIL so the subscribers' threads can take it. Nothing is queued here: while the loop is busy,
updates wait in pvxs's FIFO, which is bounded (a few entries; the newest value is
squashed into the last one), so a slow consumer costs dropped intermediate values,
never memory or stale data.

Until the server confirms which reading of a dotted address holds (``NAME.a.b``),
both are subscribed; the first update that has the field decides. A subscription the
server *finished* (PV removed) is reopened; pvxs reconnects lost servers by itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from p4p.client.raw import Context as RawContext
from p4p.client.raw import Finished

from ...core import NotFoundError, OnReading, Reading, Severity
from ._convert import to_reading
from ._resolve import Target

__all__ = ["Monitor"]

log = logging.getLogger(__name__)

#: Updates popped per subscription and turn of the loop (the rest at the next turn).
POP_MAX = 16
#: pvRequest of every subscription: pvxs keeps this many updates per subscription
#: (bounded; the newest is squashed into the last), so one wake-up of the loop can
#: take a batch instead of one update.
REQUEST = "record[queueSize=16]"
#: Pause before reopening a subscription the server finished, seconds.
REOPEN_DELAY = 0.5


class Monitor:
    """An :class:`~ctlshell.core.Upstream` for one ``pva://`` address.

    Parameters
    ----------
    context : p4p.client.asyncio.Context
        The backend's client context (its raw ``monitor`` is used).
    name : str
        The address without ``pva://``.
    targets : tuple of Target
        The readings of the name to try (one when already known).
    on_reading : callable
        Called on the loop with each reading.
    on_resolved : callable
        Called on the loop with the target the server confirmed.
    """

    def __init__(self, context: Any, name: str, targets: tuple[Target, ...], on_reading: OnReading,
                 on_resolved: Callable[[Target], None]) -> None:
        self._context = context
        self._address = f"pva://{name}"
        self._on_reading = on_reading
        self._on_resolved = on_resolved
        self._loop = asyncio.get_running_loop()
        self._subs: dict[Target, Any] = {}
        self._chosen: Target | None = targets[0] if len(targets) == 1 else None
        self._ready: set[Target] = set()
        self._scheduled = False
        self._connected = False
        self._closed = False
        self._reopen: asyncio.TimerHandle | None = None
        for target in targets:
            self._open(target)

    def _open(self, target: Target) -> None:
        if self._closed:
            return
        self._subs[target] = RawContext.monitor(self._context, target.pv, partial(self._wakeup, target),
                                                REQUEST)

    # -- pvxs worker thread ------------------------------------------------------------------
    def _wakeup(self, target: Target) -> None:
        """The FIFO of ``target`` holds updates: wake the loop once, do no work here."""
        self._ready.add(target)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon_threadsafe(self._drain)

    # -- runtime loop --------------------------------------------------------------------------
    def _drain(self) -> None:
        """Pop what the FIFOs hold (at most POP_MAX each; pvxs squashes the rest)."""
        self._scheduled = False  # before popping: an update after this wakes us again
        again = False
        for target in list(self._ready):
            self._ready.discard(target)
            sub = self._subs.get(target)
            if sub is None:
                continue
            for _ in range(POP_MAX):
                try:
                    value = sub.pop()
                except Exception:  # closed meanwhile
                    value = None
                if value is None:
                    break
                try:
                    self._event(target, value)
                except Exception:  # never leave a FIFO unread: pvxs would not wake us again
                    log.exception("update of %s could not be handled", self._address)
                # Let the subscribers' delivery threads take it: under a stream of updates
                # the loop would otherwise hold the GIL for Python's switch interval (5 ms)
                # and they would see a fraction of the updates (bench/bench_pva.py).
                time.sleep(0)
                if self._closed or target not in self._subs:
                    break
            else:
                self._ready.add(target)
                again = True
        if again and not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._drain)

    def _event(self, target: Target, value: Any) -> None:
        if isinstance(value, Exception):
            self._handle(target, value, True)
            return
        changed = not target.field or value.changed(target.field)
        try:
            item: Any = to_reading(self._address, value, target.field)
        except NotFoundError as exc:
            item = exc
        self._handle(target, item, changed)

    def _handle(self, target: Target, item: Any, changed: bool) -> None:
        if self._closed or (self._chosen is not None and target != self._chosen):
            return
        if isinstance(item, BaseException) and not isinstance(item, NotFoundError):
            if isinstance(item, Finished):  # the server ended it: reopen, updates resume
                self._subs.pop(target, None)
                self._reopen = self._loop.call_later(REOPEN_DELAY, self._open, target)
            if self._connected:  # p4p also sends a Disconnected before the first connection
                self._connected = False
                self._on_reading(Reading(self._address, None, severity=Severity.DISCONNECTED,
                                         status=str(item) or type(item).__name__.lower()))
            return
        if self._chosen is None:
            if isinstance(item, NotFoundError):
                log.warning("%s", item)
                return
            self._choose(target)
        if isinstance(item, NotFoundError):  # the server changed the structure's type
            item = Reading(self._address, None, severity=Severity.INVALID, status=str(item))
        elif self._connected and not changed:
            return  # another field of the structure changed
        self._connected = True
        self._on_reading(item)

    def _choose(self, target: Target) -> None:
        self._chosen = target
        self._on_resolved(target)
        for other, sub in list(self._subs.items()):
            if other != target:
                sub.close()
                del self._subs[other]

    async def close(self) -> None:
        self._closed = True
        if self._reopen is not None:
            self._reopen.cancel()
        subs, self._subs = list(self._subs.values()), {}
        for sub in subs:
            sub.close()
