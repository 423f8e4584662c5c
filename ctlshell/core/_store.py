"""The in-process PV store: the one model behind ``local://`` and every hosted PV.

A :class:`SoftPV` holds a value, its :class:`Metadata` and the latest
:class:`Reading`. Writes are checked first (a refused write changes nothing), then
stored, then every listener is told. Protocol servers (CA now, PVA later) are
listeners that mirror the PV; they never hold a value of their own, so a write from
any side is seen on every side with the same timestamp.

Writes from protocol clients go through :meth:`SoftPV.client_write`: access (the
PV's own read-only flag and the store's :class:`WriteRule`), type and limits are
checked, then an optional write handler (a device, a daemon item, a caproto putter)
decides, and the accepted write is reported to the store's write hooks (the journal).
Reads from protocol clients go through :meth:`SoftPV.client_read`: the stored
reading at no cost, or what an optional read handler returns (a daemon item that
reads its hardware on request, as mKTL's ``req_get`` does).

Thread-safe: writes may come from the user's thread or the runtime thread.
Listeners run in the writer's thread and must not block.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

from ._access import Client, WriteRule
from ._convert import coerce
from ._errors import NotFoundError, PutRefusedError, ValidationError
from ._model import Metadata, Reading, Severity, severity_for

__all__ = ["HANDLED", "LOCK_KEY", "DeviceLock", "Listener", "PVStore", "ReadHandler", "SoftPV", "WriteHandler",
           "WriteHook"]

log = logging.getLogger(__name__)

#: ``listener(reading, origin)``: origin is whatever the writer passed (a server
#: channel passes itself so that it does not publish its own write twice).
Listener = Callable[[Reading, object], None]


class _Handled:
    def __repr__(self) -> str:
        return "HANDLED"


#: Returned by a write handler that stored (published) the value itself, or chose
#: not to store it; the client's write is then complete and nothing more is stored.
HANDLED = _Handled()

#: ``await handler(value, client)``, on the runtime loop, with a value already checked
#: against type and limits. Raise to refuse (nothing changes); return ``None`` to
#: store the value, another value to store that instead, or :data:`HANDLED`.
WriteHandler = Callable[[Any, Client], Awaitable[Any]]

#: ``await handler()``, on the server's loop, for a client's read: the reading to
#: answer with (fresh from the device; the handler stores and publishes it, so
#: monitors see it too). It must not block the loop: slow work goes to a thread.
ReadHandler = Callable[[], Awaitable[Reading]]

#: ``hook(pv, client, old, new)`` after every accepted client write (the journal).
WriteHook = Callable[["SoftPV", Client, Reading, Reading], None]


class SoftPV:
    """One in-process PV.

    Parameters
    ----------
    name : str
        The PV name (served as-is on CA, and as ``local://name``).
    value : Any
        Initial value, already valid for ``meta``.
    meta : Metadata
    """

    def __init__(self, name: str, value: Any, meta: Metadata) -> None:
        self.name = name
        self._meta = meta
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        stored = coerce(value, meta, name)
        severity, status = severity_for(stored, meta)
        self._reading = Reading(f"local://{name}", stored, time.time(), severity, status)
        self.closed = False
        self._handler: WriteHandler | None = None
        self._read_handler: ReadHandler | None = None
        self._store: PVStore | None = None

    def set_write_handler(self, handler: WriteHandler | None) -> None:
        """Route client writes through ``handler`` (see :data:`WriteHandler`)."""
        self._handler = handler

    @property
    def has_write_handler(self) -> bool:
        return self._handler is not None

    def set_read_handler(self, handler: ReadHandler | None) -> None:
        """Answer client reads through ``handler`` (see :data:`ReadHandler`)."""
        self._read_handler = handler

    @property
    def has_read_handler(self) -> bool:
        return self._read_handler is not None

    async def client_read(self) -> Reading:
        """A read from a protocol client (CA, PVA, ``local://``): the read handler's
        reading when there is one, else the stored reading (no cost).

        Raises
        ------
        NotFoundError
            The PV is no longer hosted.
        """
        if self.closed:
            raise NotFoundError(f"{self.name} is no longer hosted")
        handler = self._read_handler
        if handler is None:
            return self._reading
        return await handler()

    async def client_write(self, value: Any, client: Client, *, origin: object = None) -> Reading | None:
        """A write from a protocol client: check everything, let the handler act, store.

        Parameters
        ----------
        value : Any
            As the client sent it.
        client : Client
            Who sent it; checked against the store's :class:`WriteRule`.
        origin : object
            Passed to listeners for a value stored here (the server channel itself).

        Returns
        -------
        Reading or None
            The reading stored here, or None when the handler stored it itself.

        Raises
        ------
        ValidationError, PutRefusedError, NotFoundError
            Or whatever the handler raised; in every case nothing changed.
        """
        if self.closed:
            raise NotFoundError(f"{self.name} is no longer hosted")
        if not self._meta.writable:
            raise ValidationError(f"{self.name} is read-only")
        store = self._store
        if store is not None:
            store.write_rule.check(client, self.name)
            store.check_lock(self.name, client)
        checked = coerce(value, self._meta, self.name)
        old = self._reading
        handler = self._handler
        reading: Reading | None
        if handler is None:
            reading = self.write(checked, origin=origin)
        else:
            result = await handler(checked, client)
            reading = None if result is HANDLED else self.write(checked if result is None else result,
                                                                origin=origin)
        if store is not None:
            store.report_write(self, client, old, self._reading)
        return reading

    @property
    def metadata(self) -> Metadata:
        return self._meta

    def read(self) -> Reading:
        """The latest reading (never blocks on I/O)."""
        return self._reading

    def write(self, value: Any, *, origin: object = None, check_access: bool = False,
              timestamp: float | None = None) -> Reading:
        """Check, store and announce a new value.

        Parameters
        ----------
        value : Any
            The new value.
        origin : object
            Passed to listeners so a mirror can skip its own write.
        check_access : bool
            True for writes from clients: refused unless the PV is writable.
        timestamp : float, optional
            Server time of the value; now by default.

        Returns
        -------
        Reading
            The stored reading.

        Raises
        ------
        ValidationError
            Wrong type, outside the control limits, not a choice, or read-only;
            nothing changed.
        """
        if self.closed:
            raise NotFoundError(f"{self.name} is no longer hosted")
        if check_access and not self._meta.writable:
            raise ValidationError(f"{self.name} is read-only")
        stored = coerce(value, self._meta, self.name)
        severity, status = severity_for(stored, self._meta)
        with self._lock:
            stamp = time.time() if timestamp is None else timestamp
            reading = Reading(self._reading.address, stored, stamp, severity, status)
            self._reading = reading
            listeners = tuple(self._listeners)
        self._announce(listeners, reading, origin)
        return reading

    def set_alarm(self, severity: Severity, status: str = "") -> Reading:
        """Set an alarm by hand (a device fault, say); announced like a write."""
        with self._lock:
            reading = replace(self._reading, timestamp=time.time(), severity=severity, status=status)
            self._reading = reading
            listeners = tuple(self._listeners)
        self._announce(listeners, reading, None)
        return reading

    def _announce(self, listeners: tuple[Listener, ...], reading: Reading, origin: object) -> None:
        for listener in listeners:
            try:
                listener(reading, origin)
            except Exception:  # a broken listener must not undo a stored change
                log.exception("listener of %s failed", self.name)

    def add_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)


#: The PV suffix of a device lock (Karabo's property name).
LOCK_KEY = "lockedBy"


class DeviceLock:
    """The ``lockedBy`` PV of a hosted device (every PV under one prefix) and its holder.

    A client claims the lock by writing a non-empty name to ``prefix + "lockedBy"``
    while it is empty, and releases it by writing ``""``. While it is held, every
    client write under the prefix from any other client (see :attr:`Client.peer`) is
    refused, the lock PV included, so a foreign client cannot steal it. Python code of
    the hosting process is privileged: :meth:`PVStore.clear_lock` always works. A lock
    held through a connection that closes is released (:meth:`PVStore.release_locks_of`).
    """

    def __init__(self, store: PVStore, prefix: str) -> None:
        self.prefix = prefix
        self.owner: Client | None = None
        self.pv = SoftPV(prefix + LOCK_KEY, "", Metadata(
            dtype="string", description=f"client holding the lock of {prefix!r}; empty when free"))
        self.pv.set_write_handler(self._claim)
        self.pv.add_listener(self._released)

    async def _claim(self, value: Any, client: Client) -> None:
        # runs only after check_lock let this client through: the lock is free or its own
        self.owner = client if value else None

    def _released(self, reading: Reading, origin: object) -> None:
        if not reading.value:  # a privileged clear from Python
            self.owner = None

    def check(self, name: str, client: Client) -> None:
        """Raise :class:`PutRefusedError` when ``client`` may not write ``name`` now."""
        owner = self.owner
        if owner is not None and client != owner:
            raise PutRefusedError(f"{name}: device {self.prefix!r} is locked by {self.pv.read().value!r}")


class PVStore:
    """Every :class:`SoftPV` of this process, by name. Thread-safe."""

    def __init__(self) -> None:
        self._pvs: dict[str, SoftPV] = {}
        self._lock = threading.Lock()
        self._on_add: list[Callable[[SoftPV], None]] = []
        self._on_remove: list[Callable[[SoftPV], None]] = []
        self._write_hooks: list[WriteHook] = []
        #: Which clients may write (anyone by default; the PV's own flag still applies).
        self.write_rule = WriteRule()
        self._locks: dict[str, DeviceLock] = {}

    # -- device locks ---------------------------------------------------------------
    def add_lock(self, prefix: str) -> SoftPV:
        """Serve a ``prefix + "lockedBy"`` PV that locks every PV under ``prefix``.

        Returns
        -------
        SoftPV
            The lock PV (a string; empty while nobody holds the lock).

        Raises
        ------
        ValidationError
            The prefix is empty or already has a lock.
        """
        if not prefix:
            raise ValidationError("a device lock needs a non-empty prefix")
        if prefix in self._locks:
            raise ValidationError(f"{prefix!r} already has a lock")
        lock = DeviceLock(self, prefix)
        self.add(lock.pv)
        self._locks[prefix] = lock
        return lock.pv

    def remove_lock(self, prefix: str) -> None:
        """Stop serving the lock of ``prefix`` (no-op when it has none)."""
        lock = self._locks.pop(prefix, None)
        if lock is not None and lock.pv.name in self:
            self.remove(lock.pv.name)

    def clear_lock(self, prefix: str) -> None:
        """Release the lock of ``prefix`` whoever holds it (the privileged clear)."""
        lock = self._locks.get(prefix)
        if lock is None:
            raise NotFoundError(f"{prefix!r} has no lock")
        lock.pv.write("")

    def release_locks_of(self, peer: str) -> list[str]:
        """Release every lock held through the client connection ``peer`` (it closed),
        as Tango drops the lock of a client that is gone; returns their prefixes."""
        released = []
        for prefix, lock in tuple(self._locks.items()):
            if peer and lock.owner is not None and lock.owner.peer == peer:
                lock.pv.write("")
                released.append(prefix)
        if released:
            log.info("client %s disconnected: released the locks of %s", peer, ", ".join(released))
        return released

    def check_lock(self, name: str, client: Client) -> None:
        """Raise :class:`PutRefusedError` when a lock covering ``name`` is held by another client."""
        for prefix, lock in tuple(self._locks.items()):
            if name.startswith(prefix):
                lock.check(name, client)

    def add_write_hook(self, hook: WriteHook) -> None:
        """Call ``hook(pv, client, old, new)`` after every accepted client write."""
        self._write_hooks.append(hook)

    def remove_write_hook(self, hook: WriteHook) -> None:
        if hook in self._write_hooks:
            self._write_hooks.remove(hook)

    def report_write(self, pv: SoftPV, client: Client, old: Reading, new: Reading) -> None:
        for hook in tuple(self._write_hooks):
            try:
                hook(pv, client, old, new)
            except Exception:  # the write is done; a failing journal must not undo it
                log.exception("write hook failed for %s", pv.name)

    def add(self, pv: SoftPV) -> SoftPV:
        """Add a PV; a name already in use raises :class:`ValidationError`."""
        with self._lock:
            if pv.name in self._pvs:
                raise ValidationError(f"{pv.name} is already hosted; remove it first or pick another name")
            self._pvs[pv.name] = pv
        pv._store = self
        for hook in tuple(self._on_add):
            hook(pv)
        return pv

    def remove(self, name: str) -> SoftPV:
        with self._lock:
            pv = self._pvs.pop(name, None)
        if pv is None:
            raise NotFoundError(f"{name} is not hosted here")
        pv.closed = True
        for hook in tuple(self._on_remove):
            hook(pv)
        return pv

    def get(self, name: str) -> SoftPV:
        try:
            return self._pvs[name]
        except KeyError:
            raise NotFoundError(f"no local PV named {name!r}; hosted here: {self.names()[:10]}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._pvs

    def __iter__(self) -> Iterator[SoftPV]:
        with self._lock:
            return iter(tuple(self._pvs.values()))

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._pvs)

    def watch(self, on_add: Callable[[SoftPV], None], on_remove: Callable[[SoftPV], None]) -> None:
        """Be told of every PV added or removed from now on (servers use this)."""
        self._on_add.append(on_add)
        self._on_remove.append(on_remove)

    def unwatch(self, on_add: Callable[[SoftPV], None], on_remove: Callable[[SoftPV], None]) -> None:
        if on_add in self._on_add:
            self._on_add.remove(on_add)
        if on_remove in self._on_remove:
            self._on_remove.remove(on_remove)
