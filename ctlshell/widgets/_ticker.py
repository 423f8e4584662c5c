"""The frame clock: one daemon thread that runs every widget's and plot's refresh at
its own capped rate.

Monitor callbacks (subscription threads) only store the newest data and mark it
new; the ticker applies it to the widgets at most ``fps`` times a second. So a
1 kHz monitor costs one redraw per frame, and widgets keep moving while the
kernel's main thread runs a long cell. Knows no widget library.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import threading
import time
from collections.abc import Callable

__all__ = ["Ticker", "ticker"]

log = logging.getLogger(__name__)

#: no job runs more often than this, whatever it asks for
MAX_FPS = 60.0


class Ticker:
    """Runs registered jobs, each at most ``fps`` times a second, on one thread."""

    def __init__(self, name: str = "ctlshell-widgets") -> None:
        self._name = name
        self._jobs: dict[int, tuple[Callable[[], None], float]] = {}
        self._due: dict[int, float] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def add(self, job: Callable[[], None], fps: float) -> int:
        """Call ``job()`` from the ticker thread at most ``fps`` times a second.

        Parameters
        ----------
        job : callable
            Cheap when there is nothing new; exceptions are logged, never raised.
        fps : float
            The cap, clipped to ``(0, MAX_FPS]``.

        Returns
        -------
        int
            A handle for :meth:`remove`.
        """
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        period = 1.0 / min(float(fps), MAX_FPS)
        with self._lock:
            handle = next(self._ids)
            self._jobs[handle] = (job, period)
            self._due[handle] = time.monotonic()
            if not self._stopped and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        self._wake.set()
        return handle

    def stop(self, timeout: float = 5.0) -> None:
        """Run no job any more and wait up to ``timeout`` s for a frame being drawn.

        Called at interpreter exit: a daemon thread still inside matplotlib's C++
        font code when Python finalises is unwound by force, and that aborts the
        process ("terminate called without an active exception").
        """
        with self._lock:
            self._stopped = True
            self._jobs.clear()
            self._due.clear()
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def remove(self, handle: int) -> None:
        """Stop calling a job. Idempotent."""
        with self._lock:
            self._jobs.pop(handle, None)
            self._due.pop(handle, None)

    @property
    def jobs(self) -> int:
        return len(self._jobs)

    def _run(self) -> None:
        while not self._stopped:
            now = time.monotonic()
            with self._lock:
                due = [(h, self._jobs[h][0]) for h, t in self._due.items() if t <= now]
                for h, _ in due:
                    # the next frame is one period after this one was due, never in a burst
                    self._due[h] = max(self._due[h] + self._jobs[h][1], now)
                wait = min(self._due.values(), default=now + 1.0) - now
            for _, job in due:
                try:
                    job()
                except Exception:
                    log.exception("widget refresh %r failed", job)
            self._wake.wait(max(wait, 0.001))
            self._wake.clear()


_TICKER = Ticker()
atexit.register(_TICKER.stop)


def ticker() -> Ticker:
    """The process's one frame clock."""
    return _TICKER
