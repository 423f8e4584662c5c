"""Ctrl-C during a run: pause now and stop what moves.

bluesky's own handler asks for a *deferred* pause on the first Ctrl-C (the plan goes
on to its next checkpoint, so a long move goes on) and pauses at once only on a
second. At a beamline the first Ctrl-C must stop the motor, as in spec and every
motor GUI: this handler asks for an immediate pause, and the RunEngine then calls
``stop()`` on every device the plan moved. Four Ctrl-C in a row give the original
handler back (a KeyboardInterrupt), for a RunEngine that no longer answers.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

__all__ = ["StopOnInterrupt"]

#: Ctrl-C presses after which the original handler is restored.
GIVE_UP_AFTER = 4


class StopOnInterrupt:
    """A RunEngine context manager (``RunEngine(context_managers=[StopOnInterrupt])``)."""

    def __init__(self, RE: Any) -> None:
        self._RE = RE
        self._count = 0
        self._released = True
        self._wake = threading.Event()
        self._original: Any = None
        self._installed: Any = None

    def _watch(self) -> None:
        from bluesky.utils import TransitionError

        while True:
            self._wake.wait()
            self._wake.clear()
            if self._released:
                return
            print("Ctrl-C: pausing the run and stopping what moves", file=sys.stderr, flush=True)
            try:
                self._RE.request_pause(defer=False)
            except TransitionError:
                pass  # already pausing or idle

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        # runs between two bytecodes of the main thread: only set flags here
        self._count += 1
        if self._count >= GIVE_UP_AFTER:
            self._released = True
            signal.signal(signal.SIGINT, self._original)
            self._wake.set()
            raise KeyboardInterrupt
        self._wake.set()

    def __enter__(self) -> StopOnInterrupt:
        self._count = 0
        self._released = False
        self._original = signal.getsignal(signal.SIGINT)
        threading.Thread(target=self._watch, daemon=True, name="ctlshell-scan-sigint").start()
        self._installed = self._handler  # one bound method: restored below only if still ours
        signal.signal(signal.SIGINT, self._installed)
        return self

    def __exit__(self, *exc: object) -> None:
        self._released = True
        self._wake.set()
        if signal.getsignal(signal.SIGINT) is self._installed:
            signal.signal(signal.SIGINT, self._original)
