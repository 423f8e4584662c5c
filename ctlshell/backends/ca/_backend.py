"""The CA client backend on aioca.

aioca runs libca with preemptive callbacks and hands every event of its reads and
puts to the runtime loop. A monitor (:mod:`._monitor`) hands each update on from
libca's thread to the channel's subscribers, whose queues are bounded. libca
re-connects and re-subscribes by itself when an IOC comes back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .. import _dso  # noqa: F401  (first: epicscorelibs.path loads without setuptools)
import aioca
from epicscorelibs.ca import cadef

from ...core import (
    Backend,
    ChannelTimeoutError,
    DisconnectedError,
    Metadata,
    OnReading,
    PutRefusedError,
    Reading,
    SyncUpstream,
    apply_local_search,
    coerce,
)
from . import _bulk, _duplicates, _monitor, _renew
from ._convert import to_metadata, to_reading

__all__ = ["CaBackend"]

T = TypeVar("T")

#: Metadata is refreshed when older than this (limits rarely change; puts check against them).
META_MAX_AGE = 10.0


def _error(name: str, exc: aioca.CANothing, timeout: float, verb: str) -> Exception:
    code = getattr(exc, "errorcode", None)
    address = f"ca://{name}"
    if code == cadef.ECA_TIMEOUT:
        return ChannelTimeoutError(
            f"{address}: no answer to {verb} within {timeout} s (unknown PV, or its IOC is not "
            "reachable through EPICS_CA_ADDR_LIST / EPICS_CA_AUTO_ADDR_LIST)")
    if code == cadef.ECA_DISCONN:
        return DisconnectedError(f"{address}: the IOC disconnected during {verb}")
    if verb == "put":
        return PutRefusedError(f"{address}: the IOC refused the write ({exc})")
    return DisconnectedError(f"{address}: {verb} failed ({exc})")


def _reading(name: str, value: Any) -> Reading:
    return to_reading(f"ca://{name}", value)


class CaBackend(Backend):
    """``ca://`` through aioca."""

    scheme = "ca"

    def __init__(self) -> None:
        apply_local_search()  # before libca's context exists: also search this host's loopback
        self._meta: dict[str, tuple[float, Metadata]] = {}
        self._servers: dict[str, str] = {}
        self._libca_ready = False
        self._to_hold: list[str] = []

    def _libca(self) -> None:
        """Before the first search: aioca's context, with ctlshell's exception handler
        (._duplicates); and the channels to hold, opened before any other of this use."""
        if not self._libca_ready:
            self._libca_ready = True
            _duplicates.install()
        while self._to_hold:
            _renew.hold(self._to_hold.pop())

    def hold(self, name: str) -> None:
        """Keep a channel of ``name`` open (opened at the next use, on the loop).

        libca closes its circuit to a server once that server disconnected the last
        channel on it, and a channel whose search the same server answers while the
        circuit closes is put on the closing circuit: it then waits up to 10 s in
        libca's disconnect governor. The hosted server's anchor, held here, keeps this
        process's circuit to it from ever being left empty.
        """
        self._to_hold.append(name)  # list.append is atomic: callable from any thread

    async def get(self, name: str, timeout: float) -> Reading:
        self._libca()
        try:
            value = await aioca.caget(name, format=aioca.FORMAT_TIME, timeout=timeout)
        except aioca.CANothing as exc:
            raise _error(name, exc, timeout, "get") from None
        return to_reading(f"ca://{name}", value)

    async def info(self, name: str, timeout: float) -> Metadata:
        self._libca()
        deadline = time.monotonic() + timeout
        try:
            ctrl = await aioca.caget(name, format=aioca.FORMAT_CTRL, timeout=timeout)
            left = max(deadline - time.monotonic(), 0.1)
            facts = await aioca.cainfo(name, timeout=left)
        except aioca.CANothing as exc:
            raise _error(name, exc, timeout, "info") from None
        return self._metadata_of(name, (ctrl, facts))

    async def get_many(self, names: Sequence[str], timeout: float) -> list[Reading | BaseException]:
        """Every read at once, as libca's ``caget_many`` does (:mod:`._bulk`)."""
        self._libca()
        out: list[Reading | BaseException] = []
        for name, value in zip(names, await _bulk.read_many(names, aioca.FORMAT_TIME, timeout)):
            out.append(self._outcome(name, value, timeout, "get", _reading))
        return out

    async def info_many(self, names: Sequence[str], timeout: float) -> list[Metadata | BaseException]:
        """Every channel's metadata at once (:mod:`._bulk`)."""
        self._libca()
        out: list[Metadata | BaseException] = []
        for name, got in zip(names, await _bulk.read_many(names, aioca.FORMAT_CTRL, timeout, with_info=True)):
            out.append(self._outcome(name, got, timeout, "info", self._metadata_of))
        return out

    @staticmethod
    def _outcome(name: str, value: Any, timeout: float, verb: str,
                 convert: Callable[[str, Any], T]) -> T | BaseException:
        """A batch's answer for ``name`` as what ``get``/``info`` would return or raise."""
        if isinstance(value, aioca.CANothing):
            return _error(name, value, timeout, verb)
        if isinstance(value, BaseException):
            return value
        try:
            return convert(name, value)
        except Exception as exc:  # one channel's odd value is that channel's error
            return exc

    def _metadata_of(self, name: str, got: tuple[Any, aioca.CAInfo]) -> Metadata:
        ctrl, facts = got
        meta = to_metadata(ctrl, facts.datatype, facts.count, facts.read, facts.write)
        self._meta[name] = (time.monotonic(), meta)
        self._servers[name] = str(facts.host)
        return meta

    def server_of(self, name: str) -> str:
        """``host:port`` of the server that answered the last ``info`` of ``name`` ("" if none yet)."""
        return self._servers.get(name, "")

    async def _metadata(self, name: str, timeout: float) -> Metadata:
        cached = self._meta.get(name)
        if cached is not None and time.monotonic() - cached[0] < META_MAX_AGE:
            return cached[1]
        return await self.info(name, timeout)

    async def put(self, name: str, value: Any, *, wait: bool, timeout: float) -> None:
        started = time.monotonic()
        meta = await self._metadata(name, timeout)
        if not meta.writable:
            raise PutRefusedError(f"ca://{name} is read-only for this client (access: {meta.access or 'none'})")
        checked = coerce(value, meta, f"ca://{name}")
        left = max(timeout - (time.monotonic() - started), 0.1)
        try:
            await aioca.caput(name, checked, wait=wait, timeout=left)
        except aioca.CANothing as exc:
            raise _error(name, exc, timeout, "put") from None

    async def subscribe(self, name: str, on_reading: OnReading) -> SyncUpstream:
        self._libca()
        address = f"ca://{name}"

        def callback(value: Any) -> None:  # on libca's thread (:mod:`._monitor`)
            on_reading(to_reading(address, value))

        return SyncUpstream(_monitor.Monitor(name, callback))

    def release(self, name: str) -> None:
        self._meta.pop(name, None)
        self._servers.pop(name, None)

    def renew(self, name: str) -> bool:
        """Drop aioca's channel of ``name`` (:mod:`._renew`): libca would search for a
        channel whose PV its server removed only after up to 10 s."""
        self.release(name)  # a PV served anew may have another type, units or limits
        return self._libca_ready and _renew.renew(name)

    async def close(self) -> None:
        """Clear every channel now (on the loop), so libca's exit has nothing to wait for."""
        aioca.purge_channel_caches()
        self._meta.clear()
        self._servers.clear()
