"""One upstream PVA subscription of an address: :class:`Monitor`.

p4p's raw client calls us on a pvxs worker thread when the subscription's FIFO holds
updates. That thread pops the FIFO, converts each update to a :class:`Reading` and
hands it to the channel cache, which offers it to the subscribers' queues (never
blocking) and wakes their delivery threads: one thread hand-over per update, as in
p4p's own thread client, not two through the runtime loop (ADR 0011). Nothing is
queued here: while we are busy, updates wait in pvxs's FIFO, which is bounded (the
newest value is squashed into the last entry), so a slow consumer costs dropped
intermediate values, never memory or stale data. Should a FIFO refill faster than we
pop, the rest is drained by the runtime loop, so the pvxs thread is never held long.

Until the server confirms which reading of a dotted address holds (``NAME.a.b``),
both are subscribed; the first update that has the field decides. A subscription the
server *finished* (PV removed) is reopened; pvxs reconnects lost servers by itself.
Anything that changes the subscriptions themselves runs on the loop.

A subscription that has had no value for a while, first or after a disconnection, is
checked: if a get of the same PV answers, the subscription is stuck and is reopened.
p4p's gateway (4.3.0) can leave a PV's first monitor silent for good on a loaded
machine: its shared upstream monitor misses the first wake-up and is never popped
again, while gets go through. Closing our subscription frees that shared monitor and
the reopen makes a new one (docs/guide/pva.md). The check backs off (8 s, 16 s, ...
up to a minute) so dead PVs cost one small get a minute each.
"""

from __future__ import annotations

import asyncio
import logging
import threading
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

#: Updates popped per wake-up before the rest is left to the loop.
POP_MAX = 64
#: pvRequest of every subscription: pvxs keeps this many updates per subscription
#: (bounded; the newest is squashed into the last), so one wake-up can take a batch
#: instead of one update.
REQUEST = "record[queueSize=16]"
#: Pause before reopening a subscription the server finished, seconds.
REOPEN_DELAY = 0.5
#: A subscription without a value this long is checked with a get (then twice as
#: long each time, up to STALL_MAX), seconds.
STALL_AFTER = 8.0
STALL_MAX = 60.0
#: After the get answered, how long the subscription may stay silent before it is
#: reopened (the value may be on its way: a get can overtake a monitor's first
#: value while thousands of channels connect), seconds.
STALL_CONFIRM = 5.0


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
        Called with each reading, one call at a time, on a pvxs thread or the loop.
    on_resolved : callable
        Called with the target the server confirmed (same threads).
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
        self._drain_lock = threading.Lock()  # one drain at a time, whichever thread
        self._connected = False
        self._closed = False
        self._reopen: asyncio.TimerHandle | None = None
        self._stall: asyncio.TimerHandle | None = None
        self._stall_wait = STALL_AFTER
        self._probes: list[Any] = []
        #: Subscriptions reopened because they had no value while a get answered.
        self.stalls_reopened = 0
        for target in targets:
            self._open(target)
        self._watch_stall()

    def _open(self, target: Target) -> None:
        if self._closed:
            return
        self._subs[target] = RawContext.monitor(self._context, target.pv, partial(self._drain, target),
                                                REQUEST)

    def _drain(self, target: Target, on_loop: bool = False) -> None:
        """Pop the FIFO of ``target`` until it is empty (pvxs calls again only then).

        Called by pvxs on its worker thread when the FIFO holds updates, and on the
        loop for what was left when POP_MAX updates did not empty it.
        """
        with self._drain_lock:
            sub = self._subs.get(target)
            if sub is None and not on_loop and not self._closed:
                # the first update can come before _open (on the loop) has kept the
                # subscription: pop it on the loop, after _open
                self._call(self._drain, target, True)
                return
            for _ in range(POP_MAX):
                if sub is None or self._closed:
                    return
                try:
                    value = sub.pop()
                except Exception:  # closed meanwhile
                    return
                if value is None:
                    return
                try:
                    self._event(target, value)
                except Exception:  # never leave a FIFO unread: pvxs would not wake us again
                    log.exception("update of %s could not be handled", self._address)
                sub = self._subs.get(target)
        self._call(self._drain, target, True)  # the FIFO refills as fast as we pop: the loop takes the rest

    def _call(self, fn: Callable[..., object], *args: Any) -> None:
        """``fn(*args)`` on the loop, from any thread; nothing once the loop has closed."""
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass

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
                self._call(self._reopen_later, target)
            if self._connected:  # p4p also sends a Disconnected before the first connection
                self._connected = False
                self._call(self._watch_stall)
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

    # -- a subscription stuck without a value ----------------------------------------
    def _watch_stall(self) -> None:
        """Check in ``_stall_wait`` s whether a subscription without a value is stuck
        (on the loop; armed at the start and at each disconnection)."""
        if self._closed:
            return
        if self._stall is not None:
            self._stall.cancel()
        self._stall_wait = STALL_AFTER
        self._stall = self._loop.call_later(self._stall_wait, self._check_stall)

    def _check_stall(self) -> None:
        self._stall = None
        self._end_probes()
        if self._closed or self._connected:
            return  # a value came: nothing to check until the next disconnection
        for target in list(self._subs):
            if self._chosen is None or target == self._chosen:
                self._probes.append(RawContext.get(self._context, target.pv, partial(self._probed, target)))
        self._stall_wait = min(2 * self._stall_wait, STALL_MAX)
        self._stall = self._loop.call_later(self._stall_wait, self._check_stall)

    def _probed(self, target: Target, result: Any) -> None:  # on a pvxs thread
        if not isinstance(result, Exception):  # the PV answers a get
            self._call(self._confirm_stuck, target, result)

    def _confirm_stuck(self, target: Target, value: Any) -> None:
        if not (self._closed or self._connected):
            self._loop.call_later(STALL_CONFIRM, self._reopen_stuck, target, value, self._subs.get(target))

    def _reopen_stuck(self, target: Target, value: Any, probed: Any) -> None:
        sub = self._subs.get(target)
        if self._closed or self._connected or sub is None or sub is not probed:
            return
        try:
            to_reading(self._address, value, target.field)
        except NotFoundError:
            return  # not this reading of a dotted name: its subscription is not stuck
        self.stalls_reopened += 1
        log.warning("%s: a get answers but its subscription had no value: reopening it "
                    "(p4p's gateway can leave a first monitor silent, see the PVA guide)",
                    self._address)
        self._subs.pop(target, None)
        sub.close()
        # opened again a moment later: a gateway whose stuck shared monitor we held
        # alone has dropped it by then, and makes a new one for the new subscription
        self._reopen_later(target)

    def _end_probes(self) -> None:
        probes, self._probes = self._probes, []
        for op in probes:
            op.close()

    def _reopen_later(self, target: Target) -> None:
        if not self._closed:
            self._reopen = self._loop.call_later(REOPEN_DELAY, self._open, target)

    def _choose(self, target: Target) -> None:
        self._chosen = target
        self._on_resolved(target)
        for other in list(self._subs):
            if other != target:
                self._call(self._close_other, other)  # updates of it are ignored from now on

    def _close_other(self, target: Target) -> None:
        sub = self._subs.pop(target, None)
        if sub is not None:
            sub.close()

    async def close(self) -> None:
        self._closed = True  # a drain under way stops at its next update
        if self._reopen is not None:
            self._reopen.cancel()
        if self._stall is not None:
            self._stall.cancel()
        self._end_probes()
        subs, self._subs = list(self._subs.values()), {}
        for sub in subs:
            sub.close()
