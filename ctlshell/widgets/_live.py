"""The common base of every live widget: subscriptions with bounded queues, a frame
job on the ticker, ``close()``, and display through its ipywidgets box.

Subscription threads call :meth:`Live._store` (cheap: keep the newest, mark it new);
the ticker calls :meth:`Live._frame`, which applies it to the widgets in one
``hold_sync()`` batch. Nothing queues without bound.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from .. import api
from ..core import Metadata, Reading, Subscription, parse_address
from ._ticker import ticker

__all__ = ["Live", "canonical"]


def canonical(addresses: Sequence[str]) -> list[str]:
    """Canonical ``scheme://name`` strings; every one is checked before anything starts."""
    if isinstance(addresses, str):
        addresses = [addresses]
    scheme = api.session().config.default_scheme
    return [str(parse_address(a, scheme)) for a in addresses]


class Live:
    """Base of readouts, controls, tables and plots (see the module docstring).

    Attributes
    ----------
    widget : ipywidgets.Widget
        What is displayed; set by the subclass.
    subscriptions : list of Subscription
        With their ``delivered`` and ``dropped`` counters.
    frames : int
        Frames applied to the widgets so far.
    """

    widget: Any = None

    def __init__(self, fps: float) -> None:
        self.fps = float(fps)
        self.frames = 0
        self.subscriptions: list[Subscription] = []
        self._mutex = threading.Lock()
        self._dirty = False
        self._job: int | None = None
        self._closed = False

    @staticmethod
    def _metadata(addresses: Sequence[str]) -> dict[str, Metadata]:
        """Metadata of every address; an unknown one raises before anything subscribes."""
        return {a: api.info(a) for a in addresses}

    def _subscribe(self, address: str, callback: Any, policy: object = "latest") -> None:
        self.subscriptions.append(api.monitor(address, callback, policy=policy))

    def _start(self) -> None:
        self._job = ticker().add(self._tick, self.fps)

    def _mark(self) -> None:
        with self._mutex:
            self._dirty = True

    def _tick(self) -> None:
        with self._mutex:
            dirty, self._dirty = self._dirty, False
        if dirty and not self._closed:
            self._frame()
            self.frames += 1

    def _frame(self) -> None:
        """Apply what is new to the widgets (ticker thread)."""
        raise NotImplementedError

    @staticmethod
    def _reading_store(store: dict[str, Reading], address: str, mark: Any) -> Any:
        def receive(reading: Reading) -> None:
            store[address] = reading
            mark()
        return receive

    def close(self) -> None:
        """Stop the subscriptions and the frame job, and close the widgets. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._job is not None:
            ticker().remove(self._job)
        for sub in self.subscriptions:
            sub.close()
        if self.widget is not None:
            self.widget.close()

    @property
    def dropped(self) -> int:
        """Updates the bounded queues replaced before the widget took them."""
        return sum(s.dropped for s in self.subscriptions)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __enter__(self) -> Live:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
