"""Karabo's ``Queue``: every change of one property, in order.

``q = Queue(dev.counter)`` starts collecting at once; ``q.get()`` blocks for the next
value not yet taken (``timeout=``, ``wait=False`` as every verb). Values come in the
order the proxy applied them; the channel cache keeps the newest update per property
when a subscriber falls behind, so a burst faster than the proxy can follow is
coalesced (ADR 0008).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._proxy import source_of
from ._sync import run

__all__ = ["Queue"]


class Queue:
    """A FIFO of every new value of ``prop`` (a value read from a proxy: ``dev.x``).

    Parameters
    ----------
    prop : Value
        ``dev.key``; a derived value is refused.
    """

    def __init__(self, prop: Any) -> None:
        proxy, key = source_of(prop)
        self._proxy, self._key = proxy, key
        self._queue: asyncio.Queue[Any] = run(_make(), timeout=5, what="Queue")
        proxy._runtime.call_soon(_register, proxy, key, self._queue)

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
        return f"<Queue {self._proxy._backend.address} {self._key}: {self.qsize()} waiting>"


async def _make() -> asyncio.Queue[Any]:
    return asyncio.Queue()


def _register(proxy: Any, key: str, queue: asyncio.Queue[Any]) -> None:
    proxy._queues.setdefault(key, []).append(queue)


def _unregister(proxy: Any, key: str, queue: asyncio.Queue[Any]) -> None:
    queues = proxy._queues.get(key, [])
    if queue in queues:
        queues.remove(queue)


