"""Karabo's ``Queue``: every change of one property, in order.

``q = Queue(dev.counter)`` starts collecting at once; ``q.get()`` blocks for the next
value not yet taken (``timeout=``, ``wait=False`` as every verb). Values come in the
order the proxy applied them; the channel cache keeps the newest update per property
when a subscriber falls behind, so a burst faster than the proxy can follow is
coalesced (ADR 0008).

Unlike Karabo's, a Queue is bounded (``maxsize``, default 10 000 values): a Queue
nobody reads must not grow without limit in a session that runs for days. When it is
full the oldest value is dropped, counted in ``dropped`` and said once in the log, so
what ``get`` returns is always the newest ``maxsize`` changes, in order.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..core import ValidationError
from ._proxy import source_of
from ._sync import run

__all__ = ["Queue"]

log = logging.getLogger(__name__)

DEFAULT_MAXSIZE = 10_000


class Queue:
    """A FIFO of every new value of ``prop`` (a value read from a proxy: ``dev.x``).

    Parameters
    ----------
    prop : Value
        ``dev.key``; a derived value is refused.
    maxsize : int
        How many values wait at most; beyond it the oldest is dropped (``dropped``).
    """

    def __init__(self, prop: Any, *, maxsize: int = DEFAULT_MAXSIZE) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValidationError(f"Queue: maxsize must be a positive integer, not {maxsize!r}")
        proxy, key = source_of(prop)
        self._proxy, self._key = proxy, key
        self._queue: _Bounded = run(_make(maxsize, f"{proxy._backend.address} {key}"),
                                    timeout=5, what="Queue")
        proxy._runtime.call_soon(_register, proxy, key, self._queue)

    @property
    def dropped(self) -> int:
        """How many values were dropped because the Queue was full."""
        return self._queue.dropped

    def get(self, *, timeout: Any = None, wait: bool = True) -> Any:
        """The next value (blocks until there is one).

        Raises
        ------
        TimeoutError
            ``timeout`` ran out (the value, when it comes, stays in the queue).
        """
        return run(self._queue.get(), timeout=timeout, wait=wait, what=f"Queue({self._key}).get")

    def qsize(self) -> int:
        """How many values wait to be taken."""
        return self._queue.qsize()

    def empty(self) -> bool:
        return self._queue.empty()

    def close(self) -> None:
        """Stop collecting."""
        self._proxy._runtime.call_soon(_unregister, self._proxy, self._key, self._queue)

    def __repr__(self) -> str:
        dropped = f", {self.dropped} dropped" if self.dropped else ""
        return f"<Queue {self._proxy._backend.address} {self._key}: {self.qsize()} waiting{dropped}>"


class _Bounded(asyncio.Queue[Any]):
    """An asyncio queue (of the loop) that drops its oldest value when full."""

    def __init__(self, maxsize: int, what: str) -> None:
        super().__init__(maxsize)
        self.dropped = 0
        self._what = what

    def put_nowait(self, item: Any) -> None:
        if self.full():
            self.get_nowait()
            self.dropped += 1
            if self.dropped == 1:
                log.warning("Queue(%s) is full (%d values): dropping the oldest", self._what, self.maxsize)
        super().put_nowait(item)


async def _make(maxsize: int, what: str) -> _Bounded:
    return _Bounded(maxsize, what)


def _register(proxy: Any, key: str, queue: asyncio.Queue[Any]) -> None:
    proxy._queues.setdefault(key, []).append(queue)


def _unregister(proxy: Any, key: str, queue: asyncio.Queue[Any]) -> None:
    queues = proxy._queues.get(key, [])
    if queue in queues:
        queues.remove(queue)


