"""Suspenders over ctlshell addresses: bluesky's own suspender classes, watching a
channel through ctlshell's channel cache.

bluesky's suspenders (``SuspendBoolHigh``, ``SuspendFloor``, ``SuspendCeil``, ...)
watch an ophyd-style signal (``subscribe(callback, event_type=None, run=True)`` and
``clear_sub``). :func:`watch` is that signal for any address: the callback gets each
value (an enum as its index, so ``SuspendBoolHigh(watch("DEMO:SHUTTER"))`` suspends
while the shutter reads ``Closed`` = 1) from ctlshell's delivery, which starts with
the current value. ``suspend_while(address, value, sleep=...)`` is the common case
(pause while a shutter is closed, resume ``sleep`` seconds after it opened).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ..api import get, info, monitor
from ..core import Reading, Subscription, ValidationError

__all__ = ["Watched", "suspend_while", "watch"]


class Watched:
    """An ophyd-style view of one address for bluesky's suspenders."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.name = address
        self._subs: dict[Any, Subscription] = {}
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[..., Any], event_type: Any = None, run: bool = True) -> Any:
        def deliver(reading: Reading) -> None:
            callback(value=reading.value, timestamp=reading.timestamp, obj=self)

        sub = monitor(self.address, deliver)  # its first delivery is the current value (run=True)
        with self._lock:
            old = self._subs.pop(callback, None)
            self._subs[callback] = sub
        if old is not None:
            old.close()
        return callback

    def clear_sub(self, callback: Callable[..., Any], event_type: Any = None) -> None:
        with self._lock:
            sub = self._subs.pop(callback, None)
        if sub is not None:
            sub.close()

    def get(self) -> Any:
        return get(self.address).value

    def __repr__(self) -> str:
        return f"watch({self.address!r})"


def watch(address: str) -> Watched:
    """``address`` as the signal of a bluesky suspender (see the module doc)."""
    info(address)  # a bad address fails here, not when a run starts
    return Watched(address)


def suspend_while(address: str, value: Any, *, sleep: float = 0.0, message: str = "") -> Any:
    """A suspender that pauses a run while ``address`` reads ``value`` (an enum's label or
    index) and resumes it ``sleep`` seconds after it reads anything else. Install it with
    ``RE.install_suspender(...)``.

    Raises
    ------
    ValidationError
        ``value`` is not one of the enum's choices.
    """
    from bluesky.suspenders import SuspenderBase

    meta = info(address)
    if meta.choices and isinstance(value, str):
        if value not in meta.choices:
            raise ValidationError(f"{address}: {value!r} is not one of {list(meta.choices)}")
        value = meta.choices.index(value)

    class _While(SuspenderBase):
        def _should_suspend(self, current: Any) -> bool:
            return bool(current == value)

        def _should_resume(self, current: Any) -> bool:
            return bool(current != value)

        def _get_justification(self) -> str:
            if not self.tripped:
                return ""
            return f"{address} reads {meta.choices[value] if meta.choices else value!r}" + (
                f": {message}" if message else "")

    return _While(Watched(address), sleep=sleep, tripped_message=message)
