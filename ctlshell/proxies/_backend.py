"""How a control system is a device: the :class:`ProxyBackend` ABC and its channel
implementations.

A proxy backend knows which properties and slots a device has (its :class:`Schema`,
from the protocol's own metadata), reads, writes and subscribes them, calls slots
and locks the device. :class:`ChannelBackend` does this for any set of ctlshell
channels ``scheme://prefix + key`` (an EPICS prefix with a PV list, over CA or
PVA); :class:`HostedBackend` for a device, daemon or group hosted by this process
(its keys and slots from the hosted object, its lock the ``lockedBy`` PV). A Tango
device is one more module (``_tango.py``): its schema from the attribute and
command lists, :meth:`call` for commands, and Tango's own lock in :meth:`lock`.
Knows ctlshell's session and channel cache; knows no protocol library.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from ..api import session
from ..core import LOCK_KEY, KeepLast, NotFoundError, Reading, Subscription, ValidationError, parse_address
from ._schema import Schema

__all__ = ["ChannelBackend", "HostedBackend", "OnUpdate", "ProxyBackend"]

#: Updates a proxy keeps while it catches up: every change reaches waiters and Queues
#: (a burst beyond this drops the oldest).
_BACKLOG = 1000

#: Karabo's train id property: its value stamps the ``tid`` of every value of the device.
TRAIN_KEY = "trainId"

#: ``on_update(key, reading)``, from a subscription thread.
OnUpdate = Callable[[str, Reading], None]


class ProxyBackend(ABC):
    """One kind of device behind a :class:`DeviceProxy`. Async methods run on the runtime loop.

    Attributes
    ----------
    address : str
        The device's address (the key of the one-proxy-per-device registry).
    lock_key : str or None
        The property that holds the lock (Karabo's ``lockedBy``), or None for a
        control system that locks natively (then :meth:`lock` / :meth:`unlock`).
    """

    address: str
    lock_key: str | None = LOCK_KEY

    @abstractmethod
    async def connect(self, timeout: float) -> Schema:
        """The device's schema; raises when the device cannot be reached in time."""

    @abstractmethod
    async def subscribe(self, on_update: OnUpdate) -> None:
        """Start calling ``on_update(key, reading)`` for every property (first with its current value)."""

    @abstractmethod
    async def read(self, key: str, timeout: float) -> Reading:
        """One property's current reading from the server."""

    @abstractmethod
    async def write(self, key: str, value: Any, *, wait: bool, timeout: float) -> None:
        """Send an already validated value; with ``wait`` until the server has processed it."""

    async def call(self, slot: str, timeout: float, *args: Any) -> Any:
        """Run a slot (a command) with ``args`` and return its result."""
        raise NotFoundError(f"{self.address} has no slot {slot!r}")

    async def call_with(self, slot: str, args: tuple[Any, ...], timeout: float) -> Any:
        """Run a slot with ``args`` (Karabo's ``call``): :meth:`call` with them."""
        return await self.call(slot, timeout, *args)

    async def lock(self, owner: str, timeout: float) -> None:
        """Lock natively (only for ``lock_key = None``)."""
        raise NotImplementedError

    async def unlock(self, owner: str, timeout: float) -> None:
        """Release a native lock (only for ``lock_key = None``)."""
        raise NotImplementedError

    @abstractmethod
    async def close(self) -> None:
        """Stop every subscription."""


class ChannelBackend(ProxyBackend):
    """A device made of ctlshell channels ``scheme://prefix + key``.

    Parameters
    ----------
    scheme : str
        ``ca``, ``pva`` or ``local``.
    prefix : str
        e.g. ``"BL:M1:"``.
    keys : sequence of str
        The PV suffixes; each becomes a property.
    """

    def __init__(self, scheme: str, prefix: str, keys: Sequence[str] | None) -> None:
        keys = list(keys or ())
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ValidationError(f"{scheme}://{prefix} needs a list of PV names, e.g. pvs=['X', 'Y']")
        if len(set(keys)) != len(keys):
            raise ValidationError(f"{scheme}://{prefix}: a PV is listed twice in {keys}")
        self.scheme, self.prefix, self.keys = scheme, prefix, keys
        self.address = f"{scheme}://{prefix}"
        self._subs: list[Subscription] = []

    def channel(self, key: str) -> Any:
        return parse_address(f"{self.scheme}://{self.prefix}{key}")

    def slots(self) -> dict[str, str]:
        """Slot names and descriptions (none for plain channels)."""
        return {}

    async def connect(self, timeout: float) -> Schema:
        cache = session().cache
        metas = await asyncio.gather(*(cache.info(self.channel(k), timeout) for k in self.keys))
        return Schema.from_metadata(self.address, dict(zip(self.keys, metas)), self.slots())

    async def subscribe(self, on_update: OnUpdate) -> None:
        s = session()

        def deliver_to(key: str) -> Any:
            def deliver(reading: Reading) -> None:
                on_update(key, reading)
            return deliver

        # a train id first, so the first values of the others are stamped with it; then
        # every other attribute at once (delivered by the shared pool: no thread per attribute)
        first = [k for k in self.keys if k == TRAIN_KEY]
        for key in first:
            self._subs.append(await s.cache.subscribe(self.channel(key), deliver_to(key), KeepLast(_BACKLOG)))
        made = await asyncio.gather(*(s.cache.subscribe(self.channel(k), deliver_to(k), KeepLast(_BACKLOG))
                                      for k in self.keys if k != TRAIN_KEY), return_exceptions=True)
        self._subs.extend(m for m in made if isinstance(m, Subscription))
        failed = next((m for m in made if isinstance(m, BaseException)), None)
        if failed is not None:
            raise failed

    async def read(self, key: str, timeout: float) -> Reading:
        return await session().cache.get(self.channel(key), timeout)

    async def write(self, key: str, value: Any, *, wait: bool, timeout: float) -> None:
        await session().cache.put(self.channel(key), value, wait=wait, timeout=timeout)

    async def close(self) -> None:
        cache = session().cache
        subs, self._subs = self._subs, []
        for sub in subs:
            await cache.unsubscribe(sub)
            sub.close(timeout=0.5)


class HostedBackend(ChannelBackend):
    """A :class:`Device`, :class:`Daemon` or hosted group of this process, over ``local://``.

    Its properties are its PVs (a Daemon's in catalog order) plus ``lockedBy`` when
    it is lockable; its slots are the methods its class names in ``SLOTS``.
    """

    def __init__(self, obj: Any) -> None:
        prefix = str(getattr(obj, "prefix", "") or "")
        store = session().store
        if hasattr(obj, "items") and hasattr(obj, "catalog"):  # a Daemon: catalog order
            names = [item.pv.name for item in obj.items.values()]
        else:
            names = list(getattr(obj, "names", ()) or ())
        if prefix + LOCK_KEY in store and prefix + LOCK_KEY not in names:
            names.append(prefix + LOCK_KEY)
        missing = [n for n in names if n not in store or not n.startswith(prefix)]
        if not prefix or not names or missing:
            raise ValidationError(f"{obj!r} is not a hosted device with a prefix (host it first)")
        super().__init__("local", prefix, [n[len(prefix):] for n in names])
        self.obj = obj

    def slots(self) -> dict[str, str]:
        out = {}
        for name in getattr(type(self.obj), "SLOTS", ()):
            method = getattr(self.obj, name, None)
            if not callable(method):
                raise ValidationError(f"{type(self.obj).__name__}.SLOTS names {name!r}, which is not a method")
            out[name] = inspect.getdoc(method) or ""
        return out

    async def call(self, slot: str, timeout: float, *args: Any) -> Any:
        if slot not in self.slots():
            return await super().call(slot, timeout, *args)
        method = getattr(self.obj, slot)
        try:
            inspect.signature(method).bind(*args)
        except TypeError as exc:
            raise ValidationError(f"{self.address} {slot}: {exc}") from None
        if inspect.iscoroutinefunction(method):
            return await method(*args)
        # device code may block: a worker thread, never the loop
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(method, *args))
