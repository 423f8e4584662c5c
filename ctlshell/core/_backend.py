"""The one extension point for control systems: :class:`Backend`.

A backend serves one scheme (``ca``, ``pva``, ``tango``, ``local``). All its methods
are coroutines run on the runtime loop. It converts its wire types into
:class:`Reading` / :class:`Metadata` and nothing else; caching, fan-out and queue
policies belong to the channel cache.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ._errors import AddressError
from ._model import CommandInfo, Metadata, Reading

__all__ = ["Backend", "OnReading", "SyncUpstream", "Upstream"]

#: Called with each update, one call at a time per upstream subscription, on the loop
#: or on a thread of the backend's library (the channel cache's fan-out is safe from
#: either, ADR 0011); a reading with severity DISCONNECTED marks a lost connection,
#: and the next normal reading its return.
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

    def get_now(self, name: str, timeout: float) -> Reading | None:
        """Read on the calling thread (never the runtime's), or ``None`` to say "use get()".

        For libraries that do their I/O in threads of their own and only block the
        caller (pytango): a blocking ``get`` then skips two thread hops. The default
        returns ``None``; a backend returns ``None`` too when it cannot honour ``timeout``.
        """
        return None

    def put_now(self, name: str, value: Any, *, wait: bool, timeout: float) -> bool:
        """Write on the calling thread (never the runtime's); ``False`` to say "use put()".

        Same checks, errors and meaning of ``wait`` as :meth:`put`. For libraries whose
        I/O runs in threads of their own (p4p): a blocking put then skips two thread
        hops. The default returns ``False``.
        """
        return False

    @abc.abstractmethod
    async def put(self, name: str, value: Any, *, wait: bool, timeout: float) -> None:
        """Write a value; with ``wait`` return only when the server has processed it.

        Raises ``ValidationError`` (checked locally, nothing sent), ``PutRefusedError``
        (the server said no) or ``ChannelTimeoutError``.
        """

    @abc.abstractmethod
    async def info(self, name: str, timeout: float) -> Metadata:
        """Units, limits, precision, choices, type, access."""

    async def get_many(self, names: Sequence[str], timeout: float) -> list[Reading | BaseException]:
        """Read every one of ``names`` at once, under one timeout.

        Per name, in order: its :class:`Reading`, or the error :meth:`get` would
        raise. The default runs :meth:`get` of each concurrently; a backend whose
        library reads many channels in one batch overrides it.
        """
        return list(await asyncio.gather(*(self.get(n, timeout) for n in names), return_exceptions=True))

    async def info_many(self, names: Sequence[str], timeout: float) -> list[Metadata | BaseException]:
        """:meth:`info` of every one of ``names`` at once, as :meth:`get_many`."""
        return list(await asyncio.gather(*(self.info(n, timeout) for n in names), return_exceptions=True))

    @abc.abstractmethod
    async def subscribe(self, name: str, on_reading: OnReading) -> Upstream:
        """Start one upstream subscription; return at once, even before it connects."""

    async def command_info(self, name: str, timeout: float) -> CommandInfo:
        """Argument and result types of a command (control systems that have commands)."""
        raise AddressError(f"{self.scheme}://{name}: {self.scheme}:// has no commands")

    async def execute(self, name: str, argument: Any, timeout: float) -> Any:
        """Run a command with ``argument`` (checked against its type first) and return its result.

        Raises ``ValidationError`` (wrong argument, nothing sent) or ``DeviceError``.
        """
        raise AddressError(f"{self.scheme}://{name}: {self.scheme}:// has no commands")

    async def close(self) -> None:  # noqa: B027 (optional: a backend holding nothing keeps it)
        """Release every connection (called at runtime shutdown)."""

    def release(self, name: str) -> None:  # noqa: B027 (optional, as close)
        """The cache dropped ``name``; a backend may free what it holds for it."""

    def hold(self, name: str) -> None:  # noqa: B027 (optional, as close)
        """Keep a connection to ``name`` open while the backend lives (any thread).

        For a library that closes its connection to a server once nothing of that
        server is in use: the in-process server's anchor name keeps that connection up.
        The default holds nothing.
        """

    def renew(self, name: str) -> bool:
        """A server of this process serves ``name`` anew (on the loop).

        A backend whose library waits before it looks again for a channel it lost
        drops that connection here, so the next use searches at once. Upstream
        subscriptions of ``name`` may end with it: the channel cache reopens them.

        Returns
        -------
        bool
            True when a connection was dropped. The default keeps everything: False.
        """
        return False
