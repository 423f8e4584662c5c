"""The delivery pool: a few shared threads call every subscriber's callback.

A subscription with readings waiting is *scheduled*: it sits once in the pool's
ready queue. A worker takes it, calls its callback with at most :data:`BATCH` of
its readings in order, and puts it back at the tail if more are waiting (so a busy
subscription cannot starve the others; p4p's ``client/thread.py`` does the same).
Only one worker serves a given subscription at a time, which keeps its order.

A callback that runs longer than :data:`SLOW_AFTER` seconds is *moved off*: the
watchdog hands the worker that runs it to that subscription alone (it becomes its
dedicated thread once the callback returns) and starts a fresh shared worker in its
place, so the others keep :data:`WORKERS` free threads. A dedicated thread idle for
:data:`GIVE_BACK_AFTER` seconds hands its subscription back to the pool and ends.
At most :data:`MAX_DEDICATED` threads are dedicated at once; beyond that a slow
callback stays on the shared workers (and is logged once).

Threads: :data:`WORKERS` + 1 (the watchdog) + the dedicated ones, whatever the
number of subscriptions. Nothing here knows a protocol or a reading.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from typing import Any

__all__ = ["BATCH", "GIVE_BACK_AFTER", "MAX_DEDICATED", "SLOW_AFTER", "WORKERS", "Pool", "pool", "stop_pool"]

log = logging.getLogger(__name__)

#: Shared delivery threads (``CTLSHELL_DELIVERY_WORKERS`` overrides; 1 to 16).
WORKERS = max(1, min(16, int(os.environ.get("CTLSHELL_DELIVERY_WORKERS", "4") or 4)))
#: Readings of one subscription delivered before the worker turns to the next one.
BATCH = 8
#: Seconds one callback may run before its subscription is moved off the shared workers.
SLOW_AFTER = 0.1
#: Seconds a dedicated thread waits idle before it hands its subscription back.
GIVE_BACK_AFTER = 10.0
#: Dedicated threads at most (slow callbacks beyond stay on the shared workers).
MAX_DEDICATED = 32
#: Seconds between two looks of the watchdog at the running callbacks.
WATCH_PERIOD = 0.025


class Worker:
    """One delivery thread: shared (takes from the ready queue) or dedicated to one subscription.

    A subscription served here provides ``_serve(worker, budget) -> more_waiting``,
    ``_sleep_dedicated(worker)``, ``_move_off(worker)`` and ``_closed``
    (:class:`~ctlshell.core.Subscription`)."""

    def __init__(self, pool: Pool, name: str) -> None:
        self.pool = pool
        self.name = name
        #: the subscription whose callback runs now, and since when (monotonic)
        self.current: Any = None
        self.since = 0.0
        #: set by the watchdog: this worker belongs to that subscription from now on
        self.captured: Any = None
        self.wake = threading.Lock()
        self.wake.acquire()  # released once per "there is work for you"
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Worker:
        self.thread.start()
        return self

    def _run(self) -> None:
        pool = self.pool
        while True:
            with pool._lock:
                if self.captured is not None:
                    break
                sub = pool._ready.popleft() if pool._ready else None
                if sub is None and pool._stopped:
                    pool._shared.remove(self)
                    return  # stopped, and nothing left to deliver
                if sub is None:
                    pool._idle.append(self)
            if sub is None:
                self.wake.acquire()
                continue
            more = sub._serve(self, BATCH)
            if self.captured is not None:
                break  # moved off while in its callback: this thread is that subscription's now
            if more:
                pool.schedule(sub)
        self._run_dedicated(self.captured)

    def _run_dedicated(self, sub: Any) -> None:
        """Serve ``sub`` only, until it closes or stays idle for GIVE_BACK_AFTER seconds."""
        while True:
            if sub._serve(self, 1 << 30):
                continue
            if sub._closed:
                break
            if sub._sleep_dedicated(self):
                continue
            break  # handed back to the pool
        self.pool._retire(self)


class Pool:
    """The shared workers, the ready queue and the watchdog.

    Parameters
    ----------
    workers : int
        Shared threads (they start on first use).
    """

    def __init__(self, workers: int = WORKERS) -> None:
        self.size = workers
        self._lock = threading.Lock()
        # bounded by the number of subscriptions: one is queued at most once while it has
        # readings waiting (``Subscription._scheduled``)
        self._ready: deque[Any] = deque()
        self._idle: list[Worker] = []
        self._shared: list[Worker] = []
        self._dedicated: list[Worker] = []
        self._started = False
        self._made = 0
        self._warned = False
        self._stopped = False
        self._watchdog: threading.Thread | None = None

    # -- called by subscriptions ---------------------------------------------------------
    def schedule(self, sub: Any) -> None:
        """``sub`` has readings waiting: queue it for the next free worker."""
        with self._lock:
            stopped = self._stopped
            if not stopped:
                if not self._started:
                    self._start()
                self._ready.append(sub)
                worker = self._idle.pop() if self._idle else None
        if stopped:
            successor = pool()
            if successor is not self:
                successor.schedule(sub)  # this pool is ending: the process's next one takes it
        elif worker is not None:
            worker.wake.release()

    def start(self) -> None:
        """Start the threads now (else at the first reading)."""
        with self._lock:
            if not self._started and not self._stopped:
                self._start()

    def stop(self, timeout: float = 1.0) -> None:
        """Let the shared workers finish what is queued, then end them and the watchdog
        (dedicated threads end with their subscriptions)."""
        with self._lock:
            self._stopped = True
            idle, self._idle = self._idle, []
            threads = [w.thread for w in self._shared]
            watchdog = self._watchdog
        for worker in idle:
            worker.wake.release()
        deadline = time.monotonic() + timeout
        for thread in threads + ([watchdog] if watchdog is not None else []):
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    # -- figures ---------------------------------------------------------------------------
    def threads(self) -> int:
        """Threads of the pool now: shared, dedicated and the watchdog."""
        with self._lock:
            watching = self._watchdog is not None and self._watchdog.is_alive()
            return len(self._shared) + len(self._dedicated) + watching

    def dedicated(self) -> int:
        with self._lock:
            return len(self._dedicated)

    # -- internals ---------------------------------------------------------------------------
    def _start(self) -> None:  # under _lock
        self._started = True
        for _ in range(self.size):
            self._shared.append(self._new_worker())
        self._watchdog = threading.Thread(target=self._watch, name="ctlshell-deliver-watch", daemon=True)
        self._watchdog.start()

    def _new_worker(self) -> Worker:  # under _lock
        self._made += 1
        return Worker(self, f"ctlshell-deliver-{self._made}").start()

    def _watch(self) -> None:
        while not self._stopped:
            time.sleep(WATCH_PERIOD)
            now = time.monotonic()
            with self._lock:
                for worker in list(self._shared):
                    sub = worker.current
                    if sub is None or now - worker.since < SLOW_AFTER or worker.captured is not None:
                        continue
                    if len(self._dedicated) >= MAX_DEDICATED:
                        if not self._warned:
                            self._warned = True
                            log.warning("%d slow monitor callbacks already have a thread each; %s stays on "
                                        "the shared delivery threads", MAX_DEDICATED, sub.address)
                        continue
                    if not sub._move_off(worker):
                        continue
                    worker.captured = sub
                    self._shared.remove(worker)
                    self._dedicated.append(worker)
                    self._shared.append(self._new_worker())

    def _retire(self, worker: Worker) -> None:
        with self._lock:
            if worker in self._dedicated:
                self._dedicated.remove(worker)


_pool: Pool | None = None
_pool_lock = threading.Lock()


def pool() -> Pool:
    """The process's delivery pool, made on first use."""
    global _pool
    current = _pool
    if current is not None:
        return current
    with _pool_lock:
        if _pool is None:
            _pool = Pool()
        return _pool


def stop_pool(timeout: float = 1.0) -> None:
    """End the process's delivery threads (at shutdown); the next reading starts a new pool."""
    global _pool
    with _pool_lock:
        current, _pool = _pool, None
    if current is not None:
        current.stop(timeout)


def _forget_in_child() -> None:
    global _pool
    _pool = None  # a forked child has none of the parent's threads


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
