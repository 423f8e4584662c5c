"""Synchronized functions: a coroutine on the ctlshell runtime, run from user code.

Every blocking verb of the proxies checks its arguments, then hands one coroutine
to :func:`run`, which adds ``timeout=`` (seconds or a time quantity: the work is
cancelled and :class:`ChannelTimeoutError` -- a ``TimeoutError`` -- raised; ``-1`` or
None is no limit, as Karabo's) and ``wait=False`` (return a :class:`Future` at
once). Also the waits on several futures: :func:`gather`, :func:`first_completed`,
:func:`all_completed`, :func:`first_exception`, and :func:`synchronous`. Karabo's ``@synchronize``,
without its silent "ignore timeout on the loop" rule: called on the runtime thread,
a blocking verb raises instead of deadlocking.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..api import session
from ..core import ChannelTimeoutError, ValidationError
from ._units import seconds

__all__ = ["Future", "all_completed", "first_completed", "first_exception", "gather", "run", "synchronous"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# done-callbacks run here, never on the loop, so they may call blocking verbs again
_callbacks = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ctlshell-proxy-callbacks")


class Future:
    """The result of a verb called with ``wait=False``.

    Wraps the task on the runtime loop; :meth:`cancel` cancels that task (a wait
    stops waiting, a sleep stops sleeping).
    """

    def __init__(self, future: concurrent.futures.Future[Any], what: str) -> None:
        self._future = future
        self._what = what

    def wait(self, timeout: float | None = None) -> Any:
        """Block until done and return the result (or raise the verb's error).

        Raises
        ------
        concurrent.futures.CancelledError
            When the future was cancelled.
        ChannelTimeoutError
            When ``timeout`` (seconds) runs out first; the work goes on.
        """
        try:
            return self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            if self._future.done():
                raise
            raise ChannelTimeoutError(f"{self._what} still running after {timeout} s") from None

    def result(self) -> Any:
        """The result of a finished verb, at once (as asyncio's and Karabo's).

        Raises
        ------
        asyncio.InvalidStateError
            The verb has not finished yet (``wait()`` blocks until it has).
        """
        if not self._future.done():
            raise asyncio.InvalidStateError(f"{self._what} has not finished; use wait() to block until it has")
        return self._future.result()

    def exception(self) -> BaseException | None:
        """The error the finished verb raised, or None (``InvalidStateError`` while running)."""
        if not self._future.done():
            raise asyncio.InvalidStateError(f"{self._what} has not finished")
        return self._future.exception()

    def done(self) -> bool:
        return self._future.done()

    def cancelled(self) -> bool:
        return self._future.cancelled()

    def cancel(self) -> bool:
        """Cancel the work; True unless it had already finished."""
        return self._future.cancel()

    def add_done_callback(self, fn: Callable[[Future], object]) -> None:
        """Call ``fn(self)`` when done (from a worker thread: it may call verbs itself)."""
        def done(_: object) -> None:
            _callbacks.submit(_guarded, fn, self)

        self._future.add_done_callback(done)

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled() else "done" if self.done() else "running"
        return f"<Future {self._what} {state}>"


def _guarded(fn: Callable[[Future], object], future: Future) -> None:
    try:
        fn(future)
    except Exception:
        log.exception("done-callback %r failed", fn)


async def _bounded(coro: Coroutine[Any, Any, T], timeout: float | None, what: str) -> T:
    if timeout is None:
        return await coro
    try:
        return await asyncio.wait_for(coro, timeout)
    except asyncio.TimeoutError:
        raise ChannelTimeoutError(f"{what} did not finish within {timeout:g} s") from None


def run(coro: Coroutine[Any, Any, T], *, timeout: Any = None, wait: bool = True, what: str = "") -> Any:
    """Run ``coro`` on the runtime: block for its result, or return a :class:`Future`.

    Raises
    ------
    ChannelTimeoutError
        ``timeout`` ran out (the work was cancelled).
    ValidationError
        ``timeout`` is not positive.
    """
    try:
        limit = time_limit(timeout)
    except BaseException:
        coro.close()
        raise
    runtime = session().runtime
    if wait and runtime.in_loop_thread():
        coro.close()
        raise ValidationError(f"{what}: a blocking verb was called on the runtime thread; use wait=False")
    future = Future(runtime.submit(_bounded(coro, limit, what)), what)
    if not wait:
        return future
    try:
        return future.wait()
    except BaseException:
        future.cancel()  # Ctrl-C (or any error) while waiting: the work stops with the wait
        raise


def time_limit(timeout: Any) -> float | None:
    """A verb's ``timeout=`` as seconds: None or ``-1`` is no limit (Karabo's), else > 0.

    Raises
    ------
    ValidationError
        Zero, negative (but -1) or not a number; pint.DimensionalityError for a non-time unit.
    """
    limit = seconds(timeout)
    if limit == -1:
        return None
    if limit is not None and not limit > 0:
        raise ValidationError(f"timeout must be positive (or -1 for no limit), not {timeout!r}")
    return limit


def _futures(args: tuple[Any, ...], kwargs: dict[str, Any], verb: str) -> dict[Any, Future]:
    named: dict[Any, Any] = dict(enumerate(args))
    named.update(kwargs)
    bad = [k for k, f in named.items() if not isinstance(f, Future)]
    if bad:
        raise ValidationError(f"{verb} takes futures (verbs called with wait=False, background(...)), "
                              f"not {named[bad[0]]!r}")
    return named


def gather(*futures: Future, return_exceptions: bool = False, timeout: Any = None) -> list[Any]:
    """Wait for every future; their results in order.

    The first error is raised at once, unless ``return_exceptions`` (then errors are
    results). ``timeout=``: ``TimeoutError`` (the futures go on).
    """
    _futures(futures, {}, "gather")
    limit = time_limit(timeout)
    wanted = [f._future for f in futures]
    when = concurrent.futures.ALL_COMPLETED if return_exceptions else concurrent.futures.FIRST_EXCEPTION
    done, pending = concurrent.futures.wait(wanted, timeout=limit, return_when=when)
    if not return_exceptions:
        for f in wanted:
            if f in done and (f.cancelled() or f.exception() is not None):
                return [f.result()]  # raises it
    if pending:
        raise ChannelTimeoutError(f"gather: {len(pending)} of {len(wanted)} futures still running after {limit:g} s")
    out: list[Any] = []
    for f in wanted:
        if f.cancelled():
            out.append(concurrent.futures.CancelledError())
        else:
            out.append(f.exception() if f.exception() is not None else f.result())
    return out


def _wait_for(when: str, args: tuple[Any, ...], kwargs: dict[str, Any], verb: str) -> tuple[dict, dict, dict]:
    timeout = kwargs.pop("timeout", None)
    cancel_pending = kwargs.pop("cancel_pending", True)
    named = _futures(args, kwargs, verb)
    limit = time_limit(timeout)
    names = {f._future: k for k, f in named.items()}
    done, pending = concurrent.futures.wait(list(names), timeout=limit, return_when=when)
    if cancel_pending:
        for f in pending:
            f.cancel()
    results = {names[f]: f.result() for f in done if not f.cancelled() and f.exception() is None}
    errors = {names[f]: None if f.cancelled() else f.exception() for f in done
              if f.cancelled() or f.exception() is not None}
    return results, {names[f]: named[names[f]] for f in pending}, errors


def first_completed(*args: Future, **kwargs: Any) -> tuple[dict, dict, dict]:
    """Wait for the first future to finish: ``(done, pending, errors)``, dicts keyed by
    position or keyword (a cancelled future is an error ``None``); pending futures are
    cancelled unless ``cancel_pending=False``; ``timeout=`` bounds the wait."""
    return _wait_for(concurrent.futures.FIRST_COMPLETED, args, kwargs, "first_completed")


def all_completed(*args: Future, **kwargs: Any) -> tuple[dict, dict, dict]:
    """Wait for every future (failures included); see :func:`first_completed`."""
    return _wait_for(concurrent.futures.ALL_COMPLETED, args, kwargs, "all_completed")


def first_exception(*args: Future, **kwargs: Any) -> tuple[dict, dict, dict]:
    """Wait for the first error (or all done); see :func:`first_completed`."""
    return _wait_for(concurrent.futures.FIRST_EXCEPTION, args, kwargs, "first_exception")


def synchronous(func: Callable[..., T]) -> Callable[..., T]:
    """Mark a plain function as synchronous (Karabo's ``@synchronous``): called from a
    thread it runs there; ctlshell's user code always runs in threads, so it is called as is."""
    if asyncio.iscoroutinefunction(func):
        raise ValidationError(f"synchronous is for plain functions, not the coroutine function {func!r}")
    return func
