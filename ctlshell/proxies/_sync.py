"""Synchronized functions: a coroutine on the ctlshell runtime, run from user code.

Every blocking verb of the proxies checks its arguments, then hands one coroutine
to :func:`run`, which adds ``timeout=`` (seconds or a time quantity: the work is
cancelled and :class:`ChannelTimeoutError` -- a ``TimeoutError`` -- raised) and
``wait=False`` (return a :class:`Future` at once). Karabo's ``@synchronize``,
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

__all__ = ["Future", "run"]

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

    result = wait

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The error the verb raised, or None."""
        return self._future.exception(timeout)

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
        limit = seconds(timeout)
        if limit is not None and not limit > 0:
            raise ValidationError(f"timeout must be positive, not {timeout!r}")
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
