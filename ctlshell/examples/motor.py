"""A device with its own thread: a motor moving its readback towards a setpoint.

Client writes to ``VAL`` arrive through the pull queue; the put-callback of a
client completes only when the move has finished (``request.done()`` at arrival).
``STOP`` is handled directly (``direct=True``): ``write_stop`` runs at once, even
while a move is in progress. Readback, moving flag and a detector that follows a
peak over the position are pushed through the push queue; each acquisition is kept
in the circular buffer.

Serve it headless::

    ctlshell serve ctlshell.examples.motor:Motor --prefix BL:M1:
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from ctlshell.host import Device, DevicePV, WriteRequest


class Motor(Device):
    period = 0.02
    buffer_size = 5000

    VAL = DevicePV(0.0, units="mm", precision=3, limits=(-10, 10), writable=True, doc="setpoint")
    RBV = DevicePV(0.0, units="mm", precision=3, doc="readback")
    VELO = DevicePV(2.0, units="mm/s", precision=2, limits=(0.1, 10), writable=True, direct=True)
    MOVN = DevicePV(0, enum=["Done", "Moving"], doc="moving")
    STOP = DevicePV(0, enum=["Go", "Stop"], writable=True, direct=True)
    COUNTS = DevicePV(0, units="counts", doc="detector counts following a peak at PEAK mm")

    peak = 2.5

    def __init__(self, prefix: str = "") -> None:
        super().__init__(prefix)
        self._target = 0.0
        self._position = 0.0
        self._velocity = 2.0
        self._move: WriteRequest | None = None
        self._rng = np.random.default_rng()
        self._last = time.monotonic()
        self._was_moving = False

    # direct writes: called on a worker thread as soon as a client writes
    def write_VELO(self, value: float) -> None:
        self._velocity = value

    def write_STOP(self, value: int) -> int:
        if value == 1:
            self._target = self._position
        return 0  # STOP reads back as "Go" once handled

    def handle(self, request: WriteRequest) -> None:
        if request.attr == "VAL":
            if self._move is not None:
                self._move.done(self._target)  # a new move supersedes the old one
            self._target = request.value
            self.push(VAL=request.value)  # the new setpoint shows at once
            self._move = request  # done() when the move ends
        else:
            request.done()

    def acquire(self) -> None:
        now = time.monotonic()
        dt, self._last = now - self._last, now
        step = self._velocity * dt
        gap = self._target - self._position
        moving = abs(gap) > 1e-9
        if moving:
            self._position = self._target if abs(gap) <= step else self._position + math.copysign(step, gap)
        counts = int(self._rng.poisson(self.count_rate(self._position)))
        self.buffer.append(counts)
        still_moving = abs(self._target - self._position) > 1e-9
        changed = {"RBV": self._position} if moving else {}
        if still_moving != self._was_moving:
            changed["MOVN"] = int(still_moving)
            self._was_moving = still_moving
        self.push(COUNTS=counts, **changed)
        if not still_moving and self._move is not None:
            move, self._move = self._move, None
            move.done(self._target)

    def count_rate(self, position: float) -> float:
        """Mean detector counts at ``position``: a peak at ``peak`` over a background."""
        return 1000.0 * math.exp(-((position - self.peak) ** 2) / 0.5) + 20.0

    def stats(self) -> dict[str, Any]:
        recent = self.buffer.last(50)
        return {"position": self._position, "mean_counts": float(recent.mean()) if len(recent) else 0.0}
