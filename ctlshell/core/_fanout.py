"""Local subscribers: a bounded queue and a delivery thread each.

The channel cache offers every upstream update to each :class:`Subscription`
(on the runtime loop, never blocking). Each subscription keeps what its
:class:`Policy` allows, counts what it had to drop, and calls the user's callback
from its own thread, so a callback that sleeps delays nobody else and never the
loop. Nothing here knows any protocol.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

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


Policy = Union[KeepLatest, KeepLast]


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
        Readings it never saw because its queue was full.
    """

    def __init__(self, address: str, callback: Callable[[Reading], object], policy: Policy,
                 on_close: Callable[[Subscription], None] | None = None) -> None:
        self.address = address
        self.policy = policy
        self.received = 0
        self.delivered = 0
        self.dropped = 0
        self.errors = 0
        self.last: Reading | None = None
        self._callback = callback
        self._on_close = on_close
        self._queue: deque[Reading] = deque(maxlen=policy.size)
        # a plain lock guards queue and counters. An idle delivery thread sleeps on
        # ``_wake`` (held while it is not idle) and the first offer releases it: a burst
        # costs one wake-up, and the cheapest one (an Event is a Condition and a new
        # lock per wait, several times the cost of a reading's whole hand-over)
        self._lock = threading.Lock()
        self._wake = threading.Lock()
        self._wake.acquire()
        self._idle = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"ctlshell-sub:{address}", daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        return len(self._queue)

    def offer(self, reading: Reading) -> None:
        """Queue a reading; never blocks. Called by the channel cache."""
        with self._lock:
            if self._closed:
                return
            self.received += 1
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
            self._queue.append(reading)
            self.last = reading
            wake, self._idle = self._idle, False
        if wake:
            self._wake.release()

    def _run(self) -> None:
        callback, queue = self._callback, self._queue
        while True:
            with self._lock:
                if self._closed:
                    return
                if queue:
                    reading: Reading | None = queue.popleft()
                    self.delivered += 1  # handed over; received == delivered + dropped + pending
                else:
                    reading, self._idle = None, True  # the next offer (or close) releases _wake
            if reading is None:
                self._wake.acquire()
                continue
            try:
                callback(reading)
            except Exception:
                self.errors += 1
                log.exception("monitor callback for %s raised", self.address)

    def close(self, timeout: float = 5.0) -> None:
        """Stop delivery and release the upstream subscription. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self.dropped += len(self._queue)  # never delivered: counted, not lost silently
            self._queue.clear()
            wake, self._idle = self._idle, False
        if wake:
            self._wake.release()
        if self._on_close is not None:
            self._on_close(self)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"<Subscription {self.address} {state}, policy={self.policy}, "
                f"delivered={self.delivered}, dropped={self.dropped}>")
