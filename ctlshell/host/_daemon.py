"""An mKTL-style daemon: :class:`Daemon`, the source of authority for a set of items.

A daemon owns a catalog (item key -> description, see ``_catalog``) and one
:class:`Item` per key: those the subclass adds in :meth:`Daemon.setup`, default
caching Items for the rest. Started by ``ctlshell.host(daemon)`` or ``ctlshell
serve``: its items become PVs ``prefix + key`` in the process's store (so every
protocol server serves them), persisted values are restored through ``validate``
and ``req_set``, then :meth:`setup_final` runs. Knows the store and the state file,
not the servers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from ..core import LOCK_KEY, Client, PVStore, ValidationError
from ._catalog import ItemSpec, load_catalog
from ._item import Item
from ._state import StateFile
from ._workers import Workers

__all__ = ["Daemon"]

log = logging.getLogger(__name__)

#: Worker threads per daemon for client writes (``req_set`` may block).
WORKERS = 8


class Daemon:
    """The base for daemons; subclass it and override :meth:`setup`.

    Parameters
    ----------
    prefix : str
        Prepended to each item key to make its PV name (``"BL:"`` + ``"temp"``).
    catalog : mapping, str or Path, optional
        Item descriptions, or a JSON file of them; defaults to the class's ``CATALOG``.
    name : str, optional
        Scope of persisted values in the state file; defaults to the class name.

    Raises
    ------
    ValidationError
        A catalog entry is malformed (the message names the item and field).

    Examples
    --------
    >>> class Oven(Daemon):
    ...     CATALOG = {"temp": {"type": "numeric", "units": "K", "initial": 295, "persist": True}}
    ...     def setup(self):
    ...         self.add_item(TempItem, "temp")
    """

    CATALOG: ClassVar[Mapping[str, Any] | str | None] = None
    #: Serve a ``prefix + "lockedBy"`` PV: while a client holds it, writes from every
    #: other client are refused (see :meth:`ctlshell.core.PVStore.add_lock`).
    LOCKABLE: ClassVar[bool] = False

    def __init__(self, prefix: str = "", catalog: Mapping[str, Any] | str | Path | None = None,
                 *, name: str | None = None) -> None:
        source = catalog if catalog is not None else type(self).CATALOG
        if source is None:
            raise ValidationError(f"{type(self).__name__} has no catalog: pass catalog= or set CATALOG")
        self.prefix = str(prefix)
        self.name = name or type(self).__name__
        self.catalog: dict[str, ItemSpec] = load_catalog(source)
        self.items: dict[str, Item] = {}
        self._workers = Workers(WORKERS, f"ctlshell-{self.name}")
        self._store: PVStore | None = None
        self._state: StateFile | None = None
        self.running = False

    # -- hooks ---------------------------------------------------------------------------
    def setup(self) -> None:
        """Add custom items with :meth:`add_item`; the rest become caching Items."""

    def setup_final(self) -> None:
        """Runs once items are served and persisted values restored."""

    def cleanup(self) -> None:
        """Runs once at stop."""

    # -- items ---------------------------------------------------------------------------
    def add_item(self, cls: type[Item], key: str, *args: Any, **kwargs: Any) -> Item:
        """Create the item ``key`` as an instance of ``cls`` (an :class:`Item` subclass)."""
        if not (isinstance(cls, type) and issubclass(cls, Item)):
            raise ValidationError(f"add_item needs an Item subclass, not {cls!r}")
        if key not in self.catalog:
            raise ValidationError(f"{key!r} is not in {self.name}'s catalog: {sorted(self.catalog)}")
        if key in self.items:
            raise ValidationError(f"item {key!r} was already added")
        item = cls(self, key, *args, **kwargs)
        self.items[key] = item
        return item

    def __getitem__(self, key: str) -> Item:
        try:
            return self.items[key]
        except KeyError:
            raise KeyError(f"{self.name} has no item {key!r}; items: {sorted(self.items)}") from None

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items.values())

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, store: PVStore, state: StateFile | None = None) -> None:
        """Serve every item in ``store``; restore persisted values from ``state``.

        Raises
        ------
        ValidationError
            A PV name is already hosted (nothing is added then).
        """
        if self.running:
            raise ValidationError(f"{self.name} is already running")
        self.setup()
        for key in self.catalog:
            if key not in self.items:
                self.add_item(Item, key)
        taken = [item.pv.name for item in self.items.values() if item.pv.name in store]
        if self.LOCKABLE and self.prefix + LOCK_KEY in store:
            taken.append(self.prefix + LOCK_KEY)
        if taken:
            raise ValidationError(f"{self.name}: already hosted here: {', '.join(taken)}")
        self._store, self._state = store, state
        for item in self.items.values():
            if item.spec.settable:
                item.pv.set_write_handler(item._handle_write)
            if item.reads_through:
                item.pv.set_read_handler(item._handle_read)
            store.add(item.pv)
        if self.LOCKABLE:
            store.add_lock(self.prefix)
        self.running = True
        self._restore()
        self.setup_final()
        log.info("%s serving %d items under %r", self.name, len(self.items), self.prefix)

    def _restore(self) -> None:
        persisted = [item for item in self.items.values() if item.spec.persist]
        if not persisted:
            return
        if self._state is None or self._state.path == ":memory:":
            log.warning("%s: no state file, so persisted items will not survive a restart", self.name)
            return
        saved = self._state.load(self._scope)
        for item in persisted:
            if item.key not in saved:
                continue
            value, _stamp = saved[item.key]
            try:
                item.set_sync(value, Client("python", user="restore"))
            except Exception as exc:
                log.warning("%s: restoring %s = %r refused (%s); keeping %r",
                            self.name, item.key, value, exc, item.value)

    @property
    def _scope(self) -> str:
        return f"{self.name}:{self.prefix}"

    def _persist(self, item: Item, value: Any, timestamp: float) -> None:
        if self._state is not None and self.running:
            self._state.save(self._scope, item.key, value, timestamp)

    def stop(self) -> None:
        """Stop polling, stop serving the items, flush persisted values. Idempotent."""
        if not self.running:
            return
        self.running = False
        for item in self.items.values():
            item._stop()
        try:
            self.cleanup()
        except Exception:
            log.exception("%s.cleanup failed", self.name)
        if self._state is not None:
            self._state.flush()
        store = self._store
        if store is not None:
            for item in self.items.values():
                item.pv.set_write_handler(None)
                item.pv.set_read_handler(None)
                if item.pv.name in store:
                    store.remove(item.pv.name)
            if self.LOCKABLE:
                store.remove_lock(self.prefix)
        self._workers.shutdown()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.name} prefix={self.prefix!r} items={len(self.catalog)} {state}>"
