"""The channel cache: the PVA gateway's theory of operation for every backend.

One :class:`Entry` per address, with a connection state, an activity flag set on
each use and a count of local users. :meth:`ChannelCache.sweep` drops entries that
were not used since the previous sweep and have no users, then clears every
activity flag. One upstream subscription per address fans out to any number of
local :class:`~ctlshell.core.Subscription` objects.

Runs on the runtime loop, with one exception: an upstream subscription's readings
may arrive on the backend's own thread (``_fan_out``), so that an update reaches the
subscribers' delivery threads without a hop through the loop (ADR 0011). What that
touches is guarded by the entry's lock: its subscribers (a tuple, replaced on
change), its last reading, its state and its update count.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ._address import Address
from ._backend import Backend, Upstream
from ._display import display_metadata, forget_metadata, format_value, remember_metadata, stamp
from ._errors import ChannelTimeoutError, DisconnectedError
from ._fanout import Policy, Subscription
from ._model import Metadata, Reading, Severity
from ._registry import BackendRegistry

__all__ = ["ChannelCache", "ChannelState", "ChannelStatus", "Entry"]

log = logging.getLogger(__name__)


class ChannelState(enum.Enum):
    NEVER_CONNECTED = "never connected"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"

    def __repr__(self) -> str:
        return f"ChannelState.{self.name}"

    def __str__(self) -> str:
        return self.value


@dataclass(eq=False, slots=True)
class Entry:
    """The cache's record of one address (mutable, owned by the loop)."""

    address: Address
    backend: Backend
    state: ChannelState = ChannelState.NEVER_CONNECTED
    active: bool = True
    #: replaced, never changed in place, under ``lock`` (fan-out may run on a backend's thread)
    subscribers: tuple[Subscription, ...] = ()
    upstream: Upstream | None = None
    last: Reading | None = None
    metadata: Metadata | None = None
    updates: int = 0
    upstream_opens: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    #: the cache, which records each use for its next sweep (on the loop only)
    owner: Any = field(default=None, repr=False, compare=False)

    @property
    def users(self) -> int:
        return len(self.subscribers)

    def touch(self) -> None:
        self.active = True
        if self.owner is not None:
            self.owner._touched.add(self.address)

    def seen(self, reading: Reading) -> None:
        self.touch()
        self.update(reading)

    def fan_out(self, reading: Reading) -> None:
        """One upstream update to every subscriber: on the loop or on the backend's thread.

        A bound method of the entry is what the backend calls (one small object per
        channel, not a closure and its cells)."""
        with self.lock:
            self.update(reading)
            self.updates += 1
            for sub in self.subscribers:
                sub.offer(reading)

    def update(self, reading: Reading) -> None:
        """Last reading and state (any thread, under ``lock`` on a backend's; no activity:
        an entry that fans out has users and is never swept)."""
        self.last = reading
        self.state = ChannelState.CONNECTED if reading.connected else (
            ChannelState.NEVER_CONNECTED if self.state is ChannelState.NEVER_CONNECTED
            else ChannelState.DISCONNECTED)


def _lost(entry: Entry) -> None:
    """A one-shot verb found no answer: a connected channel nobody monitors is so no more."""
    if entry.state is ChannelState.CONNECTED and entry.upstream is None:
        entry.state = ChannelState.DISCONNECTED


@dataclass(frozen=True)
class ChannelStatus:
    """A snapshot of one cache entry, for ``status()`` and displays."""

    address: str
    state: ChannelState
    users: int
    updates: int
    dropped: int
    last_update: float | None
    value: Any = None
    severity: Severity | None = None
    #: local subscribers whose callback blocked too long and got a thread of its own
    moved: int = 0
    #: the longest any local subscriber's callback took, seconds
    slowest: float = 0.0

    @property
    def live(self) -> bool:
        """True while a subscription keeps the value current on a connected channel; a
        value read once (or of a lost channel) may be older than the channel's state."""
        return self.state is ChannelState.CONNECTED and self.users > 0

    def __str__(self) -> str:
        value = "-" if self.last_update is None else format_value(self.value, display_metadata(self.address))
        live = "live" if self.live else "not live"
        return (f"{self.address:40} {self.state!s:16} users={self.users:<3} updates={self.updates:<6} "
                f"{value} taken {stamp(self.last_update)} ({live})")


class ChannelCache:
    """Entries by address, with fan-out of one upstream subscription each.

    Parameters
    ----------
    registry : BackendRegistry
    """

    def __init__(self, registry: BackendRegistry) -> None:
        self._registry = registry
        self._entries: dict[Address, Entry] = {}
        self._by_name: dict[str, Address] = {}  # str(address) -> address, to find a subscription's entry
        # the sweep looks only at these (O(changed), not O(all) per tick): entries used
        # since the last sweep, and those used in the period before (the candidates)
        self._touched: set[Address] = set()
        self._candidates: set[Address] = set()

    # -- entries -----------------------------------------------------------------
    def entry(self, address: Address) -> Entry:
        """The entry for ``address``, created (and its backend loaded) when new."""
        entry = self._entries.get(address)
        if entry is None:
            entry = Entry(address, self._registry.get(address.scheme), owner=self)
            self._entries[address] = entry
            self._by_name[str(address)] = address
        entry.touch()
        return entry

    def __contains__(self, address: object) -> bool:
        return address in self._entries

    def addresses(self) -> list[Address]:
        return list(self._entries)

    def forget_metadata(self, address: Address) -> None:
        """Forget the metadata known of ``address``, cached and displayed (its PV was
        replaced or removed: the next one may have other units, limits or choices)."""
        entry = self._entries.get(address)
        if entry is not None:
            entry.metadata = None
        forget_metadata(str(address))

    def metadata_of(self, address: Address) -> Metadata | None:
        """The metadata cached for ``address`` (None if never fetched); creates no entry."""
        entry = self._entries.get(address)
        return None if entry is None else entry.metadata

    def sweep(self) -> list[Address]:
        """Drop entries not used since the previous sweep that have no users; clear the
        activity flags. Returns the dropped. Costs O(entries used in the last two
        periods): an entry unused for a period was used in the one before, or was
        already dropped, or has users (its last user's leaving counts as a use)."""
        dropped = []
        for address in self._candidates:
            e = self._entries.get(address)
            if e is not None and not e.active and e.users == 0 and e.upstream is None:
                dropped.append(address)
        for address in dropped:
            entry = self._entries.pop(address)
            self._by_name.pop(str(address), None)
            try:
                entry.backend.release(address.name)
            except Exception:
                log.exception("release of %s failed", address)
        used, self._touched = self._touched, set()
        for address in used:
            e = self._entries.get(address)
            if e is not None:
                e.active = False
        self._candidates = used
        return dropped

    def status(self) -> list[ChannelStatus]:
        out = []
        for address, e in sorted(self._entries.items()):
            last = e.last
            subs = e.subscribers
            out.append(ChannelStatus(
                str(address), e.state, e.users, e.updates, sum(s.dropped for s in subs),
                None if last is None else last.timestamp,
                None if last is None else last.value, None if last is None else last.severity,
                sum(s.moved for s in subs), max((s.slowest for s in subs), default=0.0)))
        return out

    # -- one-shot verbs --------------------------------------------------------
    async def get(self, address: Address, timeout: float) -> Reading:
        entry = self.entry(address)
        try:
            reading = await entry.backend.get(address.name, timeout)
        except (ChannelTimeoutError, DisconnectedError):
            _lost(entry)
            raise
        entry.seen(reading)
        return reading

    async def get_many(self, addresses: Sequence[Address], timeout: float) -> list[Reading | BaseException]:
        """:meth:`get` of every address (each at most once) at once: one
        ``Backend.get_many`` per backend, concurrently. Per address its reading or error."""
        outcomes = await self._per_backend(addresses, lambda b, names: b.get_many(names, timeout))
        for address, outcome in zip(addresses, outcomes):
            entry = self._entries.get(address)
            if entry is None:
                continue
            if isinstance(outcome, Reading):
                entry.seen(outcome)
            elif isinstance(outcome, (ChannelTimeoutError, DisconnectedError)):
                _lost(entry)
        return outcomes

    async def info_many(self, addresses: Sequence[Address], timeout: float) -> list[Metadata | BaseException]:
        """:meth:`info` of every address at once, as :meth:`get_many`."""
        outcomes = await self._per_backend(addresses, lambda b, names: b.info_many(names, timeout))
        for i, (address, outcome) in enumerate(zip(addresses, outcomes)):
            entry = self._entries.get(address)
            if entry is not None and isinstance(outcome, Metadata):
                outcomes[i] = self._known(entry, outcome)
        return outcomes

    async def _per_backend(self, addresses: Sequence[Address],
                           call: Callable[[Backend, list[str]], Awaitable[Sequence[Any]]]) -> list[Any]:
        outcomes: list[Any] = [None] * len(addresses)
        groups: dict[int, tuple[Backend, list[int]]] = {}
        for i, address in enumerate(addresses):
            try:
                backend = self.entry(address).backend
            except Exception as exc:  # no such backend here (a library missing): that address's error
                outcomes[i] = exc
                continue
            groups.setdefault(id(backend), (backend, []))[1].append(i)

        async def one(backend: Backend, indices: list[int]) -> None:
            try:
                results = await call(backend, [addresses[i].name for i in indices])
            except Exception as exc:  # the whole batch failed: every address of it
                results = [exc] * len(indices)
            for i, result in zip(indices, results):
                outcomes[i] = result

        await asyncio.gather(*(one(b, indices) for b, indices in groups.values()))
        return outcomes

    def note(self, address: Address, reading: Reading) -> None:
        """Record a reading obtained outside the cache (a blocking read on the caller's thread)."""
        self.entry(address).seen(reading)

    async def put(self, address: Address, value: Any, *, wait: bool, timeout: float) -> None:
        entry = self.entry(address)
        await entry.backend.put(address.name, value, wait=wait, timeout=timeout)
        if entry.state is ChannelState.NEVER_CONNECTED:
            entry.state = ChannelState.CONNECTED

    async def info(self, address: Address, timeout: float) -> Metadata:
        entry = self.entry(address)
        return self._known(entry, await entry.backend.info(address.name, timeout))

    @staticmethod
    def _known(entry: Entry, meta: Metadata) -> Metadata:
        """Record metadata read from the server; returns it with the local drops counted."""
        dropped = sum(s.dropped for s in entry.subscribers)
        if dropped:
            meta = replace(meta, dropped=meta.dropped + dropped)
        entry.metadata = meta
        remember_metadata(str(entry.address), meta)  # what every display of this channel shows
        if entry.state is ChannelState.NEVER_CONNECTED:
            entry.state = ChannelState.CONNECTED
        return meta

    # -- subscriptions -----------------------------------------------------------
    async def subscribe(self, address: Address, callback: Callable[[Reading], object], policy: Policy,
                        on_close: Callable[[Subscription], None] | None = None) -> Subscription:
        """Add a local subscriber; opens the upstream subscription for the first one."""
        entry = self.entry(address)
        sub = Subscription(str(address), callback, policy, on_close)
        with entry.lock:  # no update can fall between the current value and the next
            entry.subscribers = (*entry.subscribers, sub)
            if entry.upstream is not None and entry.last is not None:
                sub.offer(entry.last)  # a late subscriber starts from the current value
        if entry.upstream is None:
            entry.upstream_opens += 1
            try:
                entry.upstream = await entry.backend.subscribe(address.name, entry.fan_out)
            except BaseException:
                self._remove(entry, sub)
                sub.close()
                raise
        return sub

    async def renew(self, address: Address) -> bool:
        """A server of this process serves ``address`` anew: its backend drops a stale
        connection (:meth:`Backend.renew`) and an open upstream subscription is opened
        again, so local subscribers see the new server's value now. Returns whether the
        backend dropped one."""
        backend = self._registry.loaded().get(address.scheme)
        if backend is None or not backend.renew(address.name):
            return False
        entry = self._entries.get(address)
        if entry is None or entry.upstream is None:
            return True
        entry.metadata = None  # the new server's PV may have other units or limits
        old, entry.upstream = entry.upstream, None
        try:
            await old.close()
        except Exception:
            log.exception("closing the stale upstream of %s failed", address)
        if entry.subscribers and entry.upstream is None:  # the last user may have left meanwhile
            entry.upstream_opens += 1
            entry.upstream = await entry.backend.subscribe(address.name, entry.fan_out)
        return True

    def _fan_out(self, entry: Entry, reading: Reading) -> None:
        """One upstream update to every subscriber of ``entry`` (see :meth:`Entry.fan_out`)."""
        entry.fan_out(reading)

    @staticmethod
    def _remove(entry: Entry, sub: Subscription) -> None:
        with entry.lock:
            entry.subscribers = tuple(s for s in entry.subscribers if s is not sub)

    async def unsubscribe(self, sub: Subscription) -> None:
        """Remove a subscriber; closes the upstream subscription after the last one."""
        address = self._by_name.get(sub.address)
        entry = None if address is None else self._entries.get(address)
        if entry is not None and sub in entry.subscribers:
            self._remove(entry, sub)
            entry.touch()
            if not entry.subscribers and entry.upstream is not None:
                upstream, entry.upstream = entry.upstream, None
                await upstream.close()

    async def close(self) -> None:
        """Close every subscriber and upstream subscription."""
        for entry in self._entries.values():
            for sub in entry.subscribers:
                sub.close(timeout=0.2)  # on the loop: do not wait long for a busy callback
            entry.subscribers = ()
            if entry.upstream is not None:
                upstream, entry.upstream = entry.upstream, None
                try:
                    await upstream.close()
                except Exception:
                    log.exception("closing upstream of %s failed", entry.address)
        self._entries.clear()
        self._by_name.clear()
        self._touched.clear()
        self._candidates.clear()
