"""An mKTL-style authoritative item: :class:`Item`, one served PV with behaviour.

The default Item is a caching key/value store. Subclasses override the hooks:

- ``req_refresh()`` returns the freshest value (read the hardware); ``None`` keeps
  the cached one. ``poll(period)`` calls it on a dedicated thread and publishes.
- ``req_get(refresh=False)`` answers a read. As in mKTL, a client's read (CA, PVA,
  ``local://``, ``ctlshell.get``) of an item that overrides ``req_refresh`` or
  ``req_get`` goes through it, on a worker thread, and is answered with what it
  returns (published to monitors too, on change). Concurrent reads share one
  refresh; ``refresh_max_age`` lets reads within that many seconds of the last
  refresh be answered from the cache. A refresh that raises answers with the cached
  value under a MAJOR/READ alarm (logged once until it recovers); one that blocks
  holds up only reads of its own item. Items that override neither are read from
  the cache at no cost.
- ``validate(value)`` returns the value to use (converted) or raises.
- ``req_set(value)`` acts on a client's write (move the hardware); it may block.
- ``publish(value, timestamp=None, repeat=False)`` stores and broadcasts, only on
  change unless ``repeat``.

A client's write runs type and limit checks, then ``validate``, then ``req_set``,
then ``publish``, on a worker thread; anything raised goes back to the client and
changes nothing. Requests for one item run one at a time (``serialize = True``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core import HANDLED, Client, CtlshellError, PutRefusedError, Reading, Severity, SoftPV, ValidationError, coerce
from ._catalog import ItemSpec
from ._poller import Poller
from ._workers import Busy

if TYPE_CHECKING:
    from ._daemon import Daemon

__all__ = ["Item"]

log = logging.getLogger(__name__)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    return bool(a == b)


class Item:
    """One item of a :class:`Daemon`, served as the PV ``daemon.prefix + key``.

    Created by the daemon (``Daemon.add_item(MyItem, "key")``), not by hand.

    Attributes
    ----------
    key : str
    daemon : Daemon
    spec : ItemSpec
        The checked catalog description.
    publish_on_set : bool
        Publish the written value after ``req_set`` (default True).
    serialize : bool
        Handle one request of this item at a time (default True).
    blocking : bool
        ``req_set``/``validate``/``req_refresh`` may block (default True): client
        writes and reads run on a worker thread. Set False for hooks that return at
        once; they then run on the server's loop, which halves the round trip
        (bench/) but must never wait.
    refresh_max_age : float
        Seconds: a client's read within this long of the last refresh is answered
        from the cache (default 0: every read refreshes; concurrent reads share one).
    """

    publish_on_set = True
    serialize = True
    blocking = True
    refresh_max_age = 0.0

    def __init__(self, daemon: Daemon, key: str) -> None:
        self.daemon = daemon
        self.key = key
        self.spec: ItemSpec = daemon.catalog[key]
        self.pv = SoftPV(daemon.prefix + key, self.spec.initial, self.spec.metadata)
        self._lock = threading.RLock()
        self._poller: Poller | None = None
        self._poll_failed = False
        # client reads: the refresh in flight (shared by concurrent reads), when the last ended
        self._read_guard = threading.Lock()
        self._refreshing: asyncio.Future[Reading] | None = None
        self._refreshed_at = -math.inf

    # -- the cached value ------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The cached value; assigning publishes."""
        return self.pv.read().value

    @value.setter
    def value(self, value: Any) -> None:
        self.publish(value)

    @property
    def timestamp(self) -> float:
        return self.pv.read().timestamp

    def publish(self, value: Any, timestamp: float | None = None, repeat: bool = False) -> bool:
        """Store ``value`` and broadcast it if it changed (always with ``repeat``).

        Returns
        -------
        bool
            Whether it was broadcast.

        Raises
        ------
        ValidationError
            The value does not fit the item's type or limits; nothing changed.
        """
        checked = coerce(value, self.spec.metadata, self.pv.name)
        if not repeat and _same(checked, self.pv.read().value):
            return False
        reading = self.pv.write(checked, origin=self, timestamp=timestamp)
        if self.spec.persist:
            self.daemon._persist(self, reading.value, reading.timestamp)
        return True

    # -- hooks for subclasses -----------------------------------------------------------
    def req_refresh(self) -> Any:
        """The freshest value, or None to keep the cached one. Default: the cache."""
        return None

    def validate(self, value: Any) -> Any:
        """Return the value to set (possibly converted), or raise to refuse it."""
        return value

    def req_set(self, value: Any) -> Any:
        """Act on a validated write. Return a value to publish instead, or None."""
        return None

    # -- request handling -----------------------------------------------------------------
    def req_get(self, refresh: bool = False) -> Any:
        """The value; with ``refresh``, read it fresh first (``req_poll``)."""
        if refresh:
            self.req_poll()
        return self.value

    def req_poll(self, repeat: bool = False) -> None:
        """``req_refresh`` then ``publish``; a failure raises an alarm on the PV."""
        self._refresh(self.req_refresh, repeat)

    def _refresh(self, source: Any, repeat: bool = False) -> None:
        """Publish what ``source()`` returns (None keeps the cache); a failure sets a
        MAJOR/READ alarm, logged once until a refresh succeeds again and clears it."""
        with self._lock if self.serialize else _NoLock():
            try:
                value = source()
                if value is not None:
                    self.publish(value, repeat=repeat or self._poll_failed)
                elif self._poll_failed:
                    self.publish(self.value, repeat=True)  # clears the alarm
            except Exception as exc:
                if not self._poll_failed:  # once per failure, not per read or poll
                    log.warning("%s: refresh failed: %s: %s", self.pv.name, type(exc).__name__, exc)
                    self._poll_failed = True
                    self.pv.set_alarm(Severity.MAJOR, "READ")
                return
            self._poll_failed = False

    # -- client reads (mKTL: a get is handled by the daemon) --------------------------------
    @property
    def reads_through(self) -> bool:
        """Whether client reads go through ``req_get`` (the subclass overrides
        ``req_refresh`` or ``req_get``); otherwise they are answered from the cache."""
        cls = type(self)
        return cls.req_refresh is not Item.req_refresh or cls.req_get is not Item.req_get

    def _read_fresh(self) -> Reading:
        """One client read: ``req_get`` (refreshing), its value published on change."""
        if type(self).req_get is Item.req_get:
            self._refresh(self.req_refresh)
        else:
            self._refresh(self._custom_get)
        return self.pv.read()

    def _custom_get(self) -> Any:
        method = type(self).req_get
        try:
            takes_refresh = "refresh" in inspect.signature(method).parameters
        except (TypeError, ValueError):
            takes_refresh = False
        return self.req_get(refresh=True) if takes_refresh else self.req_get()

    async def _handle_read(self) -> Reading:
        """The PV's read handler: one refresh shared by the reads that arrive while it
        runs, on a daemon worker (or inline for ``blocking = False`` items)."""
        if not self.blocking:
            if time.monotonic() - self._refreshed_at >= self.refresh_max_age:
                self._read_fresh()
                self._refreshed_at = time.monotonic()
            return self.pv.read()
        with self._read_guard:
            future = self._refreshing
            if future is None:
                if time.monotonic() - self._refreshed_at < self.refresh_max_age:
                    return self.pv.read()
                try:
                    future = self.daemon._workers.run(self._read_fresh)
                except RuntimeError:  # the daemon is stopping, or too busy (Busy): what it has
                    return self.pv.read()
                self._refreshing = future
                future.add_done_callback(self._read_done)
        # shared by the reads that came meanwhile: one of them giving up cancels nothing
        return await asyncio.shield(future)

    def _read_done(self, future: asyncio.Future[Reading]) -> None:
        if not future.cancelled():
            future.exception()  # retrieved here: every reader may have given up waiting
        with self._read_guard:
            if self._refreshing is future:
                self._refreshing = None
                self._refreshed_at = time.monotonic()

    def poll(self, period: float | None) -> None:
        """Call ``req_poll`` every ``period`` seconds on a dedicated thread, without
        drift; call again to change the period; 0 or None stops."""
        if not period:
            if self._poller is not None:
                self._poller.stop()
                self._poller = None
            return
        if self._poller is not None and self._poller.running:
            self._poller.period = period
        else:
            self._poller = Poller(self.req_poll, period, f"ctlshell-poll-{self.pv.name}")

    def set_sync(self, value: Any, client: Client | None = None) -> None:
        """Handle a write as from a client, in this thread (checks, validate, req_set, publish).

        Raises
        ------
        ValidationError
            Refused by type, limits or ``validate``.
        PutRefusedError
            ``req_set`` failed.
        """
        checked = coerce(value, self.spec.metadata, self.pv.name)
        with self._lock if self.serialize else _NoLock():
            try:
                checked = coerce(self.validate(checked), self.spec.metadata, self.pv.name)
            except CtlshellError:
                raise
            except Exception as exc:
                raise ValidationError(f"{self.pv.name}: {type(exc).__name__}: {exc}") from exc
            try:
                result = self.req_set(checked)
            except CtlshellError:
                raise
            except Exception as exc:
                raise PutRefusedError(f"{self.pv.name}: set failed: {type(exc).__name__}: {exc}") from exc
            if self.publish_on_set:
                self.publish(checked if result is None else result, repeat=True)

    async def _handle_write(self, value: Any, client: Client) -> Any:
        """The PV's write handler: run :meth:`set_sync` on a daemon worker thread (or
        inline, for items that declare ``blocking = False``)."""
        if not self.blocking:
            self.set_sync(value, client)
            return HANDLED
        try:
            await self.daemon._workers.run(self.set_sync, value, client)
        except Busy as exc:
            raise PutRefusedError(f"{self.pv.name}: not written, {exc}") from None
        return HANDLED

    def _stop(self) -> None:
        self.poll(None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.pv.name} = {self.value!r}>"


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
