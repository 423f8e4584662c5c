"""The runtime: one asyncio loop on one named daemon thread.

Every socket, server, subscription and sweep of ctlshell lives on this loop, so the
in-process servers keep answering while a notebook cell blocks. Blocking callers
use :meth:`Runtime.call`; calling it *on* the loop thread raises instead of
deadlocking. :meth:`Runtime.shutdown` is idempotent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ._errors import ChannelTimeoutError, RuntimeClosedError, RuntimeDeadlockError

__all__ = ["Runtime"]

log = logging.getLogger(__name__)
T = TypeVar("T")

THREAD_NAME = "ctlshell-runtime"


class Runtime:
    """Owner of the event loop thread.

    Parameters
    ----------
    name : str
        Name of the loop thread (shows in ``threading.enumerate()`` and py-spy).
    """

    def __init__(self, name: str = THREAD_NAME) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._on_shutdown: list[Callable[[], Coroutine[Any, Any, None]]] = []

    # -- lifecycle ---------------------------------------------------------------
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, started on first use."""
        with self._lock:
            if self._closed:
                raise RuntimeClosedError("the ctlshell runtime has been shut down")
            if self._loop is None:
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name=self._name, daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    @property
    def started(self) -> bool:
        return self._loop is not None and not self._closed

    @property
    def closed(self) -> bool:
        return self._closed

    def in_loop_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def on_shutdown(self, hook: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``await hook()`` on the loop when the runtime shuts down (servers close here)."""
        self._on_shutdown.append(hook)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Close hooks, cancel every task, stop the loop and join its thread. Idempotent."""
        if self.in_loop_thread():
            raise RuntimeDeadlockError("shutdown() called from the runtime thread")
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def stop() -> None:
            for hook in reversed(self._on_shutdown):
                try:
                    await asyncio.wait_for(hook(), timeout)
                except Exception:
                    log.exception("shutdown hook %r failed", hook)
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout)
        except Exception:
            log.exception("runtime did not stop cleanly")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()

    # -- bridges -----------------------------------------------------------------
    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None, what: str = "") -> T:
        """Run ``coro`` on the loop and wait for its result.

        Parameters
        ----------
        coro : coroutine
        timeout : float, optional
            Seconds to wait; the coroutine is cancelled when it runs out.
        what : str
            Named in the timeout message.

        Raises
        ------
        RuntimeDeadlockError
            When called on the loop thread itself.
        ChannelTimeoutError
            When ``timeout`` runs out.
        """
        if self.in_loop_thread():
            coro.close()
            raise RuntimeDeadlockError(
                "a blocking ctlshell call was made on the runtime thread (from a callback "
                "or a server hook); use the async API there, or hand the work to another thread"
            )
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            if future.done():
                raise  # the coroutine's own (better worded) timeout error
            future.cancel()
            raise ChannelTimeoutError(f"{what or 'operation'} did not finish within {timeout} s") from None
        except BaseException:
            future.cancel()  # Ctrl-C while waiting: the operation stops with the wait
            raise

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop without waiting (returns a concurrent future)."""
        try:
            loop = self.loop
        except RuntimeClosedError:
            coro.close()  # never started: no "was never awaited" warning for the user
            raise
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule a plain callable on the loop, from any thread."""
        loop = self.loop
        if self.in_loop_thread():
            loop.call_soon(fn, *args)
        else:
            loop.call_soon_threadsafe(fn, *args)
