"""The ``pva://`` backend over p4p's asyncio client.

Values are read raw (``nt=False``) and converted in :mod:`._convert`, so timestamps
and alarms are the server's. ``pva://NAME.field.sub`` addresses a field of a
structure; because PV names may contain dots, both readings of such an address are
tried at once and the one the server confirms is kept (:mod:`._resolve`).

Queues are bounded: pvxs keeps a few updates per subscription (newest squashed in)
and p4p's asyncio monitor wakes the loop with one coalescing event, so a slow
consumer never builds a backlog here. pvxs reconnects and resubscribes by itself
when a server returns; a subscription the server *finished* is reopened here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from p4p import Value
from p4p.client.asyncio import Context, Disconnected, Finished, RemoteError

from ...core import (
    Backend,
    ChannelTimeoutError,
    DisconnectedError,
    Metadata,
    NotFoundError,
    OnReading,
    PutRefusedError,
    Reading,
    Severity,
    ValidationError,
    coerce,
)
from ._convert import field_of, put_target, to_metadata, to_reading
from ._resolve import Target, candidates

__all__ = ["PvaBackend"]

log = logging.getLogger(__name__)

#: After one reading of a dotted address answered without the field, how long the
#: other reading (the whole text as a PV name) still gets to answer, seconds.
FIELD_GRACE = 1.0
#: Pause before reopening a subscription the server finished, seconds.
REOPEN_DELAY = 0.5
#: A put reuses the field and metadata it checked against for this long (limits rarely
#: change; the server checks again anyway), so it costs one round trip, not two.
META_MAX_AGE = 10.0


class PvaBackend(Backend):
    """``pva://`` through p4p."""

    scheme = "pva"

    def __init__(self) -> None:
        self._ctx: Context | None = None
        self._resolved: dict[str, Target] = {}
        self._put_meta: dict[str, tuple[float, Target, str, Metadata]] = {}

    def _context(self) -> Context:
        if self._ctx is None:
            self._ctx = Context("pva", nt=False)
        return self._ctx

    # -- one-shot verbs ------------------------------------------------------------
    async def _fetch(self, name: str, timeout: float, verb: str) -> tuple[Target, Value]:
        """The structure of the PV ``name`` refers to, and which reading of it holds."""
        address = f"pva://{name}"
        known = self._resolved.get(name)
        targets = (known,) if known is not None else candidates(name)
        ctx = self._context()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        tasks = {asyncio.ensure_future(ctx.get(t.pv)): t for t in targets}
        pending = set(tasks)
        missing: NotFoundError | None = None
        failure: BaseException | None = None
        try:
            while pending:
                left = deadline - loop.time()
                if left <= 0:
                    break
                done, pending = await asyncio.wait(pending, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    target = tasks[task]
                    if task.exception() is not None:
                        failure = task.exception()
                        continue
                    value = task.result()
                    try:
                        field_of(value, target.field, address)
                    except NotFoundError as exc:
                        missing = exc
                        deadline = min(deadline, loop.time() + FIELD_GRACE)
                        continue
                    self._resolved[name] = target
                    return target, value
        finally:
            for task in pending:
                task.cancel()
        if missing is not None:
            raise missing
        if isinstance(failure, Disconnected):
            raise DisconnectedError(f"{address}: the server disconnected during {verb}")
        if isinstance(failure, RemoteError):
            raise DisconnectedError(f"{address}: the server failed the {verb} ({failure})")
        raise ChannelTimeoutError(
            f"{address}: no answer to {verb} within {timeout} s (unknown PV, or its server is "
            "not reachable through EPICS_PVA_ADDR_LIST)")

    async def get(self, name: str, timeout: float) -> Reading:
        target, value = await self._fetch(name, timeout, "get")
        return to_reading(f"pva://{name}", value, target.field)

    async def info(self, name: str, timeout: float) -> Metadata:
        target, value = await self._fetch(name, timeout, "info")
        return to_metadata(value, target.field, f"pva://{name}")

    async def put(self, name: str, value: Any, *, wait: bool, timeout: float) -> None:
        address = f"pva://{name}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        cached = self._put_meta.get(name)
        if cached is not None and loop.time() - cached[0] < META_MAX_AGE:
            _, target, key, meta = cached
        else:
            target, current = await self._fetch(name, timeout, "put")
            key, meta = put_target(current, target.field, address)
            self._put_meta[name] = (loop.time(), target, key, meta)
        checked = coerce(value, meta, address)  # ValidationError: nothing is sent
        try:
            await asyncio.wait_for(self._context().put(target.pv, {key: checked}, wait=wait),
                                   max(deadline - loop.time(), 0.1))
        except BaseException as exc:
            self._put_meta.pop(name, None)  # look again next time: the PV may have changed
            if isinstance(exc, TimeoutError):
                raise ChannelTimeoutError(f"{address}: put not confirmed within {timeout} s") from None
            if isinstance(exc, RemoteError):
                raise PutRefusedError(f"{address}: the server refused the write ({exc})") from None
            if isinstance(exc, Disconnected):
                raise DisconnectedError(f"{address}: the server disconnected during put") from None
            if isinstance(exc, (TypeError, ValueError)):  # p4p could not assign it to the field
                raise ValidationError(f"{address}: {exc}") from None
            raise

    # -- subscriptions ----------------------------------------------------------------
    async def subscribe(self, name: str, on_reading: OnReading) -> _Monitor:
        known = self._resolved.get(name)
        monitor = _Monitor(self, name, (known,) if known is not None else candidates(name), on_reading)
        monitor.start()
        return monitor

    def release(self, name: str) -> None:
        self._resolved.pop(name, None)
        self._put_meta.pop(name, None)

    async def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None


class _Monitor:
    """One upstream subscription of an address (an :class:`~ctlshell.core.Upstream`).

    Until the server confirms which reading of a dotted address holds, both are
    subscribed; the first update that has the field decides, the other is closed.
    """

    def __init__(self, backend: PvaBackend, name: str, targets: tuple[Target, ...],
                 on_reading: OnReading) -> None:
        self._backend = backend
        self._name = name
        self._address = f"pva://{name}"
        self._on_reading = on_reading
        self._subs: dict[Target, Any] = {}
        self._targets = targets
        self._chosen: Target | None = targets[0] if len(targets) == 1 else None
        self._connected = False
        self._closed = False
        self._reopen: asyncio.TimerHandle | None = None

    def start(self) -> None:
        for target in self._targets:
            self._open(target)

    def _open(self, target: Target) -> None:
        if self._closed:
            return

        async def callback(value: Any) -> None:  # p4p's asyncio monitor wants a coroutine
            self._event(target, value)

        self._subs[target] = self._backend._context().monitor(target.pv, callback, notify_disconnect=True)

    def _event(self, target: Target, value: Any) -> None:
        if self._closed or (self._chosen is not None and target != self._chosen):
            return
        if isinstance(value, Exception):
            if isinstance(value, Finished):  # the server ended it: reopen, updates resume
                self._subs.pop(target, None)
                loop = asyncio.get_running_loop()
                self._reopen = loop.call_later(REOPEN_DELAY, self._open, target)
            if self._connected:  # p4p also sends one before the first connection
                self._connected = False
                self._on_reading(Reading(self._address, None, severity=Severity.DISCONNECTED,
                                         status="disconnected"))
            return
        if self._chosen is None:
            try:
                field_of(value, target.field, self._address)
            except NotFoundError as exc:
                log.warning("%s", exc)
                return
            self._choose(target)
        if target.field and self._connected and not value.changed(target.field):
            return  # another field of the structure changed
        self._connected = True
        try:
            reading = to_reading(self._address, value, target.field)
        except NotFoundError as exc:  # the server changed the structure's type
            reading = Reading(self._address, None, severity=Severity.INVALID, status=str(exc))
        self._on_reading(reading)

    def _choose(self, target: Target) -> None:
        self._chosen = target
        self._backend._resolved[self._name] = target
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
        for sub in subs:
            try:
                await asyncio.wait_for(sub.wait_closed(), 2.0)
            except (TimeoutError, asyncio.CancelledError, Exception):
                pass
