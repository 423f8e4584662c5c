"""The handle ``ctlshell.host()`` returns: one hosted PV, seen from Python.

Setting ``.value`` checks the value, stores it and publishes it to every server at
once; it never blocks on the network. Knows the store, not the servers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ..core import Metadata, PVStore, Reading, SoftPV
from ._loop import let_the_loop_run

__all__ = ["HostedPV"]

log = logging.getLogger(__name__)


class HostedPV:
    """A PV this process serves (on CA now; on PVA too once that lands).

    Attributes
    ----------
    name : str
        The PV name clients use.
    value : Any
        The current value; assigning publishes (and raises ``ValidationError`` for a
        value the PV cannot take, changing nothing).
    """

    def __init__(self, pv: SoftPV, store: PVStore) -> None:
        self._pv = pv
        self._store = store
        self._callbacks: list[Callable[[Reading], object]] = []
        self._lock = threading.Lock()
        pv.add_listener(self._on_change)

    @property
    def name(self) -> str:
        return self._pv.name

    @property
    def address(self) -> str:
        return f"ca://{self._pv.name}"

    @property
    def value(self) -> Any:
        return self._pv.read().value

    @value.setter
    def value(self, value: Any) -> None:
        self.publish(value)

    @property
    def reading(self) -> Reading:
        return self._pv.read()

    @property
    def metadata(self) -> Metadata:
        return self._pv.metadata

    @property
    def hosted(self) -> bool:
        return not self._pv.closed

    def publish(self, value: Any, timestamp: float | None = None) -> Reading:
        """Set the value with an explicit server timestamp (POSIX seconds)."""
        reading = self._pv.write(value, origin=self, timestamp=timestamp)
        let_the_loop_run()
        return reading

    def on_write(self, callback: Callable[[Reading], object]) -> Callable[[Reading], object]:
        """Call ``callback(reading)`` after each write a client makes (usable as a decorator).

        Runs on the runtime thread: keep it short, hand long work to a thread.
        Exceptions are logged; the write has already been accepted.
        """
        with self._lock:
            self._callbacks.append(callback)
        return callback

    def _on_change(self, reading: Reading, origin: object) -> None:
        if origin is self:
            return  # our own assignment, not a client write
        for callback in tuple(self._callbacks):
            try:
                callback(reading)
            except Exception:
                log.exception("on_write callback of %s raised", self.name)

    def remove(self) -> None:
        """Stop serving this PV; connected clients see it disconnect. Idempotent."""
        if not self._pv.closed:
            self._pv.remove_listener(self._on_change)
            self._store.remove(self._pv.name)

    def __repr__(self) -> str:
        r = self._pv.read()
        units = f" {self.metadata.units}" if self.metadata.units else ""
        state = "" if self.hosted else " (removed)"
        return f"<HostedPV {self.name} = {r.value!r}{units}{state}>"
