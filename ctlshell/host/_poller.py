"""A periodic call on a dedicated thread, without drift: :class:`Poller`.

Ticks fall on ``start + n * period``; a call that overruns skips the ticks it
missed instead of bunching them. The period can be changed while running;
:meth:`Poller.stop` stops (``Item.poll(0)`` or ``poll(None)`` call it). Knows threads only.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

__all__ = ["Poller"]

log = logging.getLogger(__name__)


class Poller:
    """Call ``fn()`` every ``period`` seconds on a thread named ``name``.

    ``on_error(exc)`` is called when ``fn`` raises; polling goes on.
    """

    def __init__(self, fn: Callable[[], object], period: float, name: str,
                 on_error: Callable[[BaseException], object] | None = None) -> None:
        self._fn = fn
        self._on_error = on_error
        self._period = self._check(period)
        self._changed = threading.Event()
        self._stopped = False
        self.calls = 0
        self.skipped = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @staticmethod
    def _check(period: float) -> float:
        period = float(period)
        if not period > 0 or not math.isfinite(period):
            raise ValueError(f"poll period must be a positive number of seconds, not {period!r}")
        return period

    @property
    def period(self) -> float:
        return self._period

    @period.setter
    def period(self, period: float) -> None:
        self._period = self._check(period)
        self._changed.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopped

    def stop(self, wait: float = 1.0) -> None:
        """Stop after the current call, if any. Idempotent."""
        self._stopped = True
        self._changed.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(wait)

    def _run(self) -> None:
        start, period, n = time.monotonic(), self._period, 0
        while not self._stopped:
            n += 1
            due = start + n * period
            if self._changed.wait(max(0.0, due - time.monotonic())):
                self._changed.clear()
                if self._stopped:
                    return
                start, period, n = time.monotonic(), self._period, 0  # a new cadence from now
                continue
            try:
                self._fn()
            except Exception as exc:
                try:
                    if self._on_error is None:
                        raise
                    self._on_error(exc)
                except Exception:
                    log.exception("poll of %s failed", self._thread.name)
            self.calls += 1
            behind = math.floor((time.monotonic() - start) / period) - n
            if behind > 0:  # overran: skip the missed ticks, keep the grid
                self.skipped += behind
                n += behind
