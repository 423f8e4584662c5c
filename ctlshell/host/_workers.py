"""Threads that run the blocking hooks of hosted objects for the loop: :class:`Workers`.

A daemon's ``validate``/``req_set``/``req_refresh`` and a device's direct writes may
block (they talk to hardware), so the server loop hands them to a thread and awaits
the answer. ``loop.run_in_executor`` did that through a ``concurrent.futures`` future
chained to an asyncio one: about 100 µs of CPU per call here, more than the rest of a
put-callback's round trip. :meth:`Workers.run` makes one hand-over each way instead
(a ``queue.SimpleQueue`` to the thread, ``call_soon_threadsafe`` back): about 20 µs.

Threads start when a job finds none idle, up to ``size``; at most ``max_queued`` jobs
wait for one (beyond, :class:`Busy`: clients flooding a daemon whose hooks hang get a
refusal, not a queue that grows without bound); :meth:`shutdown` cancels what has not
started and lets the threads end.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_QUEUED", "Busy", "Workers"]

_STOP = object()
#: Jobs that may wait for a free thread, by default.
MAX_QUEUED = 1024


class Busy(RuntimeError):
    """Every thread is busy and ``max_queued`` jobs already wait."""


def _settle(future: asyncio.Future[Any], ok: bool, outcome: Any) -> None:
    """On the loop: the job's outcome into its future, unless the waiter gave up."""
    if future.done():
        return
    if ok:
        future.set_result(outcome)
    else:
        future.set_exception(outcome)


class Workers:
    """Up to ``size`` threads named ``name_0``, ``name_1``, ... running callables for a loop.

    Parameters
    ----------
    size : int
        Threads at most (as many jobs run at once).
    name : str
        Prefix of the thread names.
    max_queued : int
        Jobs that may wait for a thread.
    """

    def __init__(self, size: int, name: str, max_queued: int = MAX_QUEUED) -> None:
        self.size = int(size)
        self.name = name
        self.max_queued = int(max_queued)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for a job
        self._queued = 0  # jobs not yet taken by a thread
        self._closed = False

    def run(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """``fn(*args)`` on a worker thread; call on the loop, await what it returns.

        Cancelling the returned future does not stop a job that started; its outcome
        is then dropped.

        Raises
        ------
        Busy
            ``max_queued`` jobs already wait for a thread.
        RuntimeError
            After :meth:`shutdown`.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name}: the workers are stopped")
            if self._queued - self._idle >= self.max_queued:
                raise Busy(f"{self.name}: all {self.size} threads busy and {self.max_queued} requests waiting")
            self._queued += 1
            self._jobs.put((loop, future, fn, args))
            if self._queued > self._idle and len(self._threads) < self.size:
                thread = threading.Thread(target=self._work, name=f"{self.name}_{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                self._idle += 1  # counted from now: it takes a job as soon as it runs
                thread.start()
        return future

    def shutdown(self) -> None:
        """Cancel the jobs that have not started and end the threads (not waited for)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = len(self._threads)
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not _STOP:
                loop, future = job[0], job[1]
                try:
                    loop.call_soon_threadsafe(future.cancel)
                except RuntimeError:  # its loop has closed
                    pass
        for _ in range(threads):
            self._jobs.put(_STOP)

    def threads(self) -> int:
        """Threads started so far (alive or ending)."""
        with self._lock:
            return len(self._threads)

    def _work(self) -> None:
        jobs, lock = self._jobs, self._lock
        while True:  # counted idle by run(), which started it
            job = jobs.get()
            with lock:
                self._idle -= 1
                if job is not _STOP:
                    self._queued -= 1
            if job is _STOP:
                return
            loop, future, fn, args = job
            try:
                ok, outcome = True, fn(*args)
            except StopIteration as exc:  # a future cannot hold it
                ok, outcome = False, RuntimeError(f"StopIteration raised by {fn!r}: {exc}")
            except BaseException as exc:
                ok, outcome = False, exc
            with lock:  # idle before the waiter hears: its next job finds this thread
                self._idle += 1
            try:
                loop.call_soon_threadsafe(_settle, future, ok, outcome)
            except RuntimeError:  # the loop closed while the job ran: nobody waits
                pass
            del job, loop, future, fn, args, outcome  # nothing of a finished job is kept alive
