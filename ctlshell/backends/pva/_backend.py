"""The ``pva://`` backend over p4p's asyncio client.

Values are read raw (``nt=False``) and converted in :mod:`._convert`, so timestamps
and alarms are the server's. ``pva://NAME.field.sub`` addresses a field of a
structure; because PV names may contain dots, both readings of such an address are
tried at once and the one the server confirms is kept (:mod:`._resolve`).

Subscriptions are :class:`._monitor.Monitor`: bounded at every step (pvxs squashes
into a few updates per subscription; the hand-over to the loop keeps the newest 64).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from .. import _dso  # noqa: F401  (first: epicscorelibs.path loads without setuptools)
from p4p import Value
from p4p.client.asyncio import Context, Disconnected, RemoteError
from p4p.client.raw import Context as RawContext

from ...core import (
    AddressError,
    Backend,
    ChannelTimeoutError,
    DisconnectedError,
    Metadata,
    NotFoundError,
    OnReading,
    PutRefusedError,
    Reading,
    ValidationError,
    coerce,
    local_pva_search,
)
from ._convert import field_of, put_target, to_metadata, to_reading
from ._monitor import Monitor
from ._resolve import Target, candidates

__all__ = ["PvaBackend"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: After one reading of a dotted address answered without the field, how long the
#: other reading (the whole text as a PV name) still gets to answer, seconds.
FIELD_GRACE = 1.0
#: A put reuses the field and metadata it checked against for this long (limits rarely
#: change; the server checks again anyway), so it costs one round trip, not two.
META_MAX_AGE = 10.0


def _request(wait: bool) -> str:
    """The pvRequest of a put: block until the server processed it, or not."""
    return f"field()record[block={'true' if wait else 'false'},process=passive]"


def _put_error(exc: BaseException, address: str, timeout: float) -> BaseException | None:
    """A p4p put failure as a ctlshell error (None: not one p4p reports)."""
    if isinstance(exc, TimeoutError):
        return ChannelTimeoutError(f"{address}: put not confirmed within {timeout} s")
    if isinstance(exc, RemoteError):
        return PutRefusedError(f"{address}: the server refused the write ({exc})")
    if isinstance(exc, Disconnected):
        return DisconnectedError(f"{address}: the server disconnected during put")
    if isinstance(exc, (TypeError, ValueError)):  # p4p could not assign it to the field
        return ValidationError(f"{address}: {exc}")
    return None


def _start_get(ctx: Context, loop: asyncio.AbstractEventLoop, pv: str) -> asyncio.Future[Value]:
    """A get of ``pv`` begun now: a future of its Value (or the p4p error), fed from the
    pvxs thread; cancelling the future (or its ending) closes the operation."""
    fut: asyncio.Future[Value] = loop.create_future()

    def settle(result: Any) -> None:  # on the loop
        if fut.done():
            return
        if isinstance(result, Exception):
            fut.set_exception(result)
        else:
            fut.set_result(result)

    def arrived(result: Any) -> None:  # on a pvxs thread
        loop.call_soon_threadsafe(settle, result)

    op = RawContext.get(ctx, pv, arrived)
    fut.add_done_callback(lambda _: op.close())
    return fut


def _expire(fut: asyncio.Future[Value]) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


def _expire_all(futures: list[asyncio.Future[Value]]) -> None:
    for fut in futures:
        _expire(fut)


def _fetch_error(failure: BaseException | None, address: str, timeout: float, verb: str) -> Exception:
    """What a get of ``address`` that found no value raises."""
    if isinstance(failure, Disconnected):
        return DisconnectedError(f"{address}: the server disconnected during {verb}")
    if isinstance(failure, RemoteError):
        return DisconnectedError(f"{address}: the server failed the {verb} ({failure})")
    return ChannelTimeoutError(
        f"{address}: no answer to {verb} within {timeout} s (unknown PV, or its server is "
        "not reachable through EPICS_PVA_ADDR_LIST)")


class PvaBackend(Backend):
    """``pva://`` through p4p."""

    scheme = "pva"

    def __init__(self) -> None:
        self._ctx: Context | None = None
        self._resolved: dict[str, Target] = {}
        self._put_meta: dict[str, tuple[float, Target, str, Metadata]] = {}

    def _context(self) -> Context:
        if self._ctx is None:
            # the user's EPICS_PVA_* settings, else also this host's servers (core/_search.py)
            self._ctx = Context("pva", nt=False, conf=local_pva_search(), useenv=True)
        return self._ctx

    # -- one-shot verbs ------------------------------------------------------------
    async def _fetch(self, name: str, timeout: float, verb: str) -> tuple[Target, Value]:
        """The structure of the PV ``name`` refers to, and which reading of it holds."""
        address = f"pva://{name}"
        known = self._resolved.get(name)
        targets = (known,) if known is not None else candidates(name)
        ctx = self._context()
        loop = asyncio.get_running_loop()
        if len(targets) == 1:  # the common case: no dot, or resolved before
            return targets[0], await self._fetch_one(ctx, loop, name, targets[0], timeout, verb)
        deadline = loop.time() + timeout
        tasks = {_start_get(ctx, loop, t.pv): t for t in targets}
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
        raise _fetch_error(failure, address, timeout, verb)

    async def _fetch_one(self, ctx: Context, loop: asyncio.AbstractEventLoop, name: str, target: Target,
                         timeout: float, verb: str) -> Value:
        """One get of one reading, as a future and a timer: no task, no ``asyncio.wait``
        (a ``get_many`` of 10 000 channels makes 10 000 of these)."""
        address = f"pva://{name}"
        fut = _start_get(ctx, loop, target.pv)
        timer = loop.call_later(timeout, _expire, fut)
        try:
            value = await fut  # cancelling the caller cancels fut, which closes the operation
        except Exception as exc:  # Disconnected, RemoteError, TimeoutError, p4p's Cancelled
            raise _fetch_error(exc, address, timeout, verb) from None
        finally:
            timer.cancel()
        field_of(value, target.field, address)
        self._resolved[name] = target
        return value

    async def get(self, name: str, timeout: float) -> Reading:
        target, value = await self._fetch(name, timeout, "get")
        return to_reading(f"pva://{name}", value, target.field)

    async def info(self, name: str, timeout: float) -> Metadata:
        target, value = await self._fetch(name, timeout, "info")
        return to_metadata(value, target.field, f"pva://{name}")

    async def get_many(self, names: Sequence[str], timeout: float) -> list[Reading | BaseException]:
        """Every read at once: a future per PV, one timer for all (no task per name)."""
        return await self._fetch_many(names, timeout, "get",
                                      lambda name, t, v: to_reading(f"pva://{name}", v, t.field))

    async def info_many(self, names: Sequence[str], timeout: float) -> list[Metadata | BaseException]:
        """Every channel's metadata at once, as :meth:`get_many`."""
        return await self._fetch_many(names, timeout, "info",
                                      lambda name, t, v: to_metadata(v, t.field, f"pva://{name}"))

    async def _fetch_many(self, names: Sequence[str], timeout: float, verb: str,
                          convert: Callable[[str, Target, Value], T]) -> list[T | BaseException]:
        ctx = self._context()
        loop = asyncio.get_running_loop()
        out: list[Any] = [None] * len(names)
        plain: dict[int, tuple[Target, asyncio.Future[Value]]] = {}
        dotted: dict[int, asyncio.Task[tuple[Target, Value]]] = {}
        for i, name in enumerate(names):
            known = self._resolved.get(name)
            try:
                targets = (known,) if known is not None else candidates(name)
            except AddressError as exc:
                out[i] = exc
                continue
            if len(targets) == 1:
                plain[i] = (targets[0], _start_get(ctx, loop, targets[0].pv))
            else:  # both readings of a dotted name: the general path
                dotted[i] = asyncio.ensure_future(self._fetch(name, timeout, verb))
        pending: list[asyncio.Future[Any]] = [f for _, f in plain.values()] + list(dotted.values())
        timer = loop.call_later(timeout, _expire_all, [f for _, f in plain.values()])
        try:
            if pending:
                await asyncio.wait(pending, timeout=timeout + FIELD_GRACE)
        finally:
            timer.cancel()
            for f in pending:
                f.cancel()  # only those still running: the caller gave up
        for i, (target, fut) in plain.items():
            name = names[i]
            failure = fut.exception() if not fut.cancelled() else TimeoutError()
            if failure is not None:
                out[i] = _fetch_error(failure, f"pva://{name}", timeout, verb)
                continue
            try:
                field_of(fut.result(), target.field, f"pva://{name}")
                self._resolved[name] = target
                out[i] = convert(name, target, fut.result())
            except Exception as exc:
                out[i] = exc
        for i, task in dotted.items():
            try:
                target, value = task.result()
                out[i] = convert(names[i], target, value)
            except asyncio.CancelledError:
                out[i] = _fetch_error(None, f"pva://{names[i]}", timeout, verb)
            except Exception as exc:
                out[i] = exc
        return out

    async def put(self, name: str, value: Any, *, wait: bool, timeout: float) -> None:
        address = f"pva://{name}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        cached = self._put_meta.get(name)
        if cached is not None and time.monotonic() - cached[0] < META_MAX_AGE:
            _, target, key, meta = cached
        else:
            target, current = await self._fetch(name, timeout, "put")
            key, meta = put_target(current, target.field, address)
            self._put_meta[name] = (time.monotonic(), target, key, meta)
        checked = coerce(value, meta, address)  # ValidationError: nothing is sent
        try:
            # get=False: no read before the write (the field and its limits are known),
            # and only the marked field is sent
            await asyncio.wait_for(self._context().put(target.pv, {key: checked}, request=_request(wait), get=False),
                                   max(deadline - loop.time(), 0.1))
        except BaseException as exc:
            self._put_meta.pop(name, None)  # look again next time: the PV may have changed
            error = _put_error(exc, address, timeout)
            if error is not None:
                raise error from None
            raise

    def put_now(self, name: str, value: Any, *, wait: bool, timeout: float) -> bool:
        """A blocking put on the caller's thread, once a put through the loop has found
        the field and its limits (pvxs does the I/O on its own threads)."""
        cached = self._put_meta.get(name)
        ctx = self._ctx
        if cached is None or ctx is None or time.monotonic() - cached[0] >= META_MAX_AGE:
            return False
        _, target, key, meta = cached
        address = f"pva://{name}"
        checked = coerce(value, meta, address)  # ValidationError: nothing is sent
        done = threading.Event()
        outcome: list[Any] = []

        def finished(result: Any) -> None:  # on a pvxs thread
            outcome.append(result)
            done.set()

        op = RawContext.put(ctx, target.pv, finished, builder={key: checked}, request=_request(wait), get=False)
        try:
            if not done.wait(timeout):
                outcome.append(TimeoutError())
        finally:
            op.close()
        if isinstance(outcome[0], BaseException):
            self._put_meta.pop(name, None)  # look again next time: the PV may have changed
            error = _put_error(outcome[0], address, timeout)
            raise error if error is not None else outcome[0]
        return True

    # -- subscriptions ----------------------------------------------------------------
    async def subscribe(self, name: str, on_reading: OnReading) -> Monitor:
        known = self._resolved.get(name)
        targets = (known,) if known is not None else candidates(name)
        return Monitor(self._context(), name, targets, on_reading, partial(self._resolved.__setitem__, name))

    def release(self, name: str) -> None:
        self._resolved.pop(name, None)
        self._put_meta.pop(name, None)

    async def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None
