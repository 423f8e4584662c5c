"""Local subscribers: a bounded queue each, delivered by the shared pool.

The channel cache offers every upstream update to each :class:`Subscription`
(on the runtime loop or a backend's thread, never blocking). Each subscription
keeps what its :class:`Policy` allows, counts what it had to drop, and has its
callback called in order by the delivery pool (:mod:`._delivery`): a few threads
for all subscriptions, never one each. A callback that blocks is moved to a thread
of its own, so it delays nobody else and never the loop (ADR 0011, ADR
"delivery-pool"). Nothing here knows any protocol.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ._delivery import Worker, pool
from ._errors import ValidationError
from ._model import Reading

__all__ = ["KeepLast", "KeepLatest", "Policy", "Subscription", "parse_policy"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeepLatest:
    """Keep only the newest undelivered reading (a display, a widget)."""

    @property
    def size(self) -> int:
        return 1

    def __str__(self) -> str:
        return "latest"


@dataclass(frozen=True)
class KeepLast:
    """Keep the last ``n`` undelivered readings, dropping the oldest (a logger, a plot)."""

    n: int

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or isinstance(self.n, bool) or not 1 <= self.n <= 1_000_000:
            raise ValidationError(f"KeepLast needs 1 <= n <= 1000000, got {self.n!r}")

    @property
    def size(self) -> int:
        return self.n

    def __str__(self) -> str:
        return f"last {self.n}"


Policy = KeepLatest | KeepLast

#: Up to this many readings a subscription queues in a list (72 bytes empty, against
#: a deque's 600 and more: the queue of every one of thousands of monitors); a longer
#: queue is a deque, whose popleft stays O(1) however long it grows.
SMALL_QUEUE = 64


class _SmallQueue(list):  # type: ignore[type-arg]
    """A short FIFO: a list with the deque methods the subscription uses."""

    __slots__ = ()

    def popleft(self) -> Reading:
        return self.pop(0)  # type: ignore[no-any-return]


def _queue_for(policy: Policy) -> deque[Reading] | _SmallQueue:
    return _SmallQueue() if policy.size <= SMALL_QUEUE else deque(maxlen=policy.size)


def parse_policy(policy: object) -> Policy:
    """``"latest"``, an int N (keep last N), or a policy object."""
    if isinstance(policy, (KeepLatest, KeepLast)):
        return policy
    if policy is None or policy == "latest":
        return KeepLatest()
    if isinstance(policy, int) and not isinstance(policy, bool):
        return KeepLast(policy)
    raise ValidationError(f"unknown queue policy {policy!r}: use 'latest', an int N, KeepLatest() or KeepLast(n)")


class Subscription:
    """One local subscriber of a channel.

    Attributes
    ----------
    address : str
    policy : Policy
    received : int
        Readings offered to this subscriber.
    delivered : int
        Readings its callback has been called with.
    dropped : int
        Readings it never saw because its queue was full (``received == delivered +
        dropped + pending`` at any time).
    errors : int
        Callback calls that raised.
    calls, callback_seconds, slowest : int, float, float
        Calls that returned, the seconds they took in all, the longest one.
    moves : int
        Times its callback blocked longer than the pool allows and it was moved to a
        thread of its own (``moved`` tells whether it still has one).
    """

    __slots__ = ("address", "policy", "received", "delivered", "dropped", "errors", "last", "calls",
                 "callback_seconds", "slowest", "moves", "_callback", "_on_close", "_queue", "_lock",
                 "_closed", "_scheduled", "_running", "_dedicated", "_finished")

    def __init__(self, address: str, callback: Callable[[Reading], object], policy: Policy,
                 on_close: Callable[[Subscription], None] | None = None) -> None:
        self.address = address
        self.policy = policy
        self.received = 0
        self.delivered = 0
        self.dropped = 0
        self.errors = 0
        self.last: Reading | None = None
        self.calls = 0
        self.callback_seconds = 0.0
        self.slowest = 0.0
        self.moves = 0
        self._callback = callback
        self._on_close = on_close
        self._queue = _queue_for(policy)  # at most policy.size readings (offer drops the oldest)
        # one plain lock guards the queue, the counters and the hand-over flags below
        self._lock = threading.Lock()
        self._closed = False
        #: queued in the pool, being served, or (dedicated) its thread has been woken
        self._scheduled = False
        #: the worker calling the callback now
        self._running: Worker | None = None
        #: the thread of its own, once moved off the shared workers
        self._dedicated: Worker | None = None
        #: set when the running callback returns (made by a close that waits for it)
        self._finished: threading.Event | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def moved(self) -> bool:
        """True while its callback has a thread of its own (it blocked too long)."""
        return self._dedicated is not None

    def offer(self, reading: Reading) -> None:
        """Queue a reading; never blocks. Called by the channel cache."""
        with self._lock:
            if self._closed:
                return
            self.received += 1
            if len(self._queue) >= self.policy.size:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(reading)
            self.last = reading
            if self._scheduled:
                return  # a worker will come (or is here): one hand-over per burst
            self._scheduled = True
            dedicated = self._dedicated
        if dedicated is not None:
            dedicated.wake.release()
        else:
            pool().schedule(self)  # the process's pool (a new one after a shutdown)

    # -- called by the delivery pool ------------------------------------------------------
    def _serve(self, worker: Worker, budget: int) -> bool:
        """Call back with up to ``budget`` readings, in order; True if more are waiting."""
        callback, queue, lock = self._callback, self._queue, self._lock
        with lock:
            if self._closed or not queue:
                self._scheduled = False
                return False
            reading = queue.popleft()
            self.delivered += 1  # handed over; received == delivered + dropped + pending
            self._running = worker
        done = 0
        while True:
            started = time.monotonic()
            worker.since = started
            worker.current = self
            try:
                callback(reading)
            except Exception:
                self.errors += 1
                log.exception("monitor callback for %s raised", self.address)
            took = time.monotonic() - started
            worker.current = None
            done += 1
            with lock:
                self._running = None
                self.calls += 1
                self.callback_seconds += took
                if took > self.slowest:
                    self.slowest = took
                if self._finished is not None:
                    self._finished.set()
                if self._closed or not queue:
                    self._scheduled = False
                    return False
                if done >= budget and worker.captured is not self:
                    return True  # still scheduled: the pool puts it back at the tail
                reading = queue.popleft()
                self.delivered += 1
                self._running = worker

    def _move_off(self, worker: Worker) -> bool:
        """The watchdog's: ``worker`` (blocked in this callback) becomes this one's own thread."""
        with self._lock:
            if self._closed or self._running is not worker or self._dedicated is not None:
                return False
            self._dedicated = worker
            worker.captured = self
            self.moves += 1
        log.info("monitor callback for %s blocked for more than the delivery pool allows; "
                 "it has a thread of its own now", self.address)
        return True

    def _sleep_dedicated(self, worker: Worker) -> bool:
        """Wait on the own thread for work; False when it hands this one back to the pool."""
        from ._delivery import GIVE_BACK_AFTER

        if worker.wake.acquire(timeout=GIVE_BACK_AFTER):
            return True
        with self._lock:
            if not self._scheduled:
                self._dedicated = None  # from now on offers go to the shared workers
                return False
        worker.wake.acquire()  # an offer came at the last moment: its release is on its way
        return True

    # -- closing -------------------------------------------------------------------------
    def close(self, timeout: float = 5.0) -> None:
        """Stop delivery and release the upstream subscription. Idempotent.

        Waits up to ``timeout`` seconds for a callback that is running now (unless
        called from inside that callback)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self.dropped += len(self._queue)  # never delivered: counted, not lost silently
            self._queue.clear()
            running = self._running
            finished = None
            if running is not None and running.thread is not threading.current_thread():
                finished = self._finished = threading.Event()
            dedicated = self._dedicated
            wake = dedicated is not None and not self._scheduled
            if wake:
                self._scheduled = True
        if wake and dedicated is not None:
            dedicated.wake.release()  # its thread sees the close and ends
        if self._on_close is not None:
            self._on_close(self)
        if finished is not None:
            finished.wait(timeout)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"<Subscription {self.address} {state}, policy={self.policy}, "
                f"delivered={self.delivered}, dropped={self.dropped}>")
