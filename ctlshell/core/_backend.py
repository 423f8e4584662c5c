"""The one extension point for control systems: :class:`Backend`.

A backend serves one scheme (``ca``, ``pva``, ``tango``, ``local``). All its methods
are coroutines run on the runtime loop. It converts its wire types into
:class:`Reading` / :class:`Metadata` and nothing else; caching, fan-out and queue
policies belong to the channel cache.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, Protocol

from ._model import Metadata, Reading

__all__ = ["Backend", "OnReading", "SyncUpstream", "Upstream"]

#: Called on the loop with each update; a reading with severity DISCONNECTED marks
#: a lost connection, and the next normal reading its return.
OnReading = Callable[[Reading], None]


class Upstream(Protocol):
    """What :meth:`Backend.subscribe` returns: one subscription to the server."""

    async def close(self) -> None: ...


class SyncUpstream:
    """An :class:`Upstream` over a library subscription whose ``close()`` is synchronous."""

    def __init__(self, subscription: Any) -> None:
        self._subscription = subscription

    async def close(self) -> None:
        self._subscription.close()


class Backend(abc.ABC):
    """Client side of one control system."""

    scheme: str = ""

    @abc.abstractmethod
    async def get(self, name: str, timeout: float) -> Reading:
        """Read the value with its timestamp and alarm.

        Raises ``ChannelTimeoutError`` when the channel does not connect or answer.
        """

    @abc.abstractmethod
    async def put(self, name: str, value: Any, *, wait: bool, timeout: float) -> None:
        """Write a value; with ``wait`` return only when the server has processed it.

        Raises ``ValidationError`` (checked locally, nothing sent), ``PutRefusedError``
        (the server said no) or ``ChannelTimeoutError``.
        """

    @abc.abstractmethod
    async def info(self, name: str, timeout: float) -> Metadata:
        """Units, limits, precision, choices, type, access."""

    @abc.abstractmethod
    async def subscribe(self, name: str, on_reading: OnReading) -> Upstream:
        """Start one upstream subscription; return at once, even before it connects."""

    async def close(self) -> None:
        """Release every connection (called at runtime shutdown)."""

    def release(self, name: str) -> None:
        """The cache dropped ``name``; a backend may free what it holds for it."""
