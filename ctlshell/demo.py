"""A small demo beamline hosted in-process, for ``ctlshell --demo`` and ``make demo``.

A motor that moves towards its setpoint, a detector following a peak over the
motor position, a decaying ring current, a shutter and a 1000-point spectrum. One
daemon thread updates them at 10 Hz; it only sets hosted values (it never touches
the event loop). The hosted-devices issue replaces this with the full device model.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np

from . import api
from .host import HostedPV

__all__ = ["DemoBeamline", "start"]

PREFIX = "DEMO:"


class DemoBeamline:
    """The demo PVs and the thread that moves them. ``stop()`` ends the thread."""

    def __init__(self, prefix: str = PREFIX, rate: float = 10.0) -> None:
        self.prefix = prefix
        self.period = 1.0 / rate
        host = api.host
        self.pvs: dict[str, HostedPV] = {
            "motor": host(prefix + "MOTOR", 0.0, units="mm", precision=3, limits=(-10, 10), writable=True,
                          doc="motor setpoint"),
            "readback": host(prefix + "MOTOR.RBV", 0.0, units="mm", precision=3, doc="motor readback"),
            "velocity": host(prefix + "MOTOR.VELO", 2.0, units="mm/s", precision=2, limits=(0.1, 10),
                             writable=True),
            "moving": host(prefix + "MOTOR.MOVN", 0, enum=["Done", "Moving"]),
            "counts": host(prefix + "DET:COUNTS", 0, units="counts"),
            "current": host(prefix + "RING:CURRENT", 300.0, units="mA", precision=2,
                            alarm_limits=(150, 400), warning_limits=(200, 350)),
            "shutter": host(prefix + "SHUTTER", "Closed", enum=["Open", "Closed"], writable=True),
            "temp": host(prefix + "SAMPLE:TEMP", 295.0, units="K", precision=2, limits=(4, 500),
                         alarm_limits=(10, 450), warning_limits=(20, 400), writable=True),
            "spectrum": host(prefix + "SPECTRUM", np.zeros(1000), units="counts"),
        }
        self._stop = threading.Event()
        self._rng = np.random.default_rng()
        self._thread = threading.Thread(target=self._run, name="ctlshell-demo", daemon=True)
        self._thread.start()

    def _step(self, t: float, dt: float) -> None:
        pv = self.pvs
        target, pos = pv["motor"].value, pv["readback"].value
        step = pv["velocity"].value * dt
        moving = abs(target - pos) > 1e-9
        if moving:
            pos = target if abs(target - pos) <= step else pos + math.copysign(step, target - pos)
            pv["readback"].value = pos
        if pv["moving"].value != int(moving):
            pv["moving"].value = int(moving)
        open_ = pv["shutter"].value == 0
        peak = 1000.0 * math.exp(-((pos - 2.5) ** 2) / 0.5) + 20.0
        pv["counts"].value = int(self._rng.poisson(peak if open_ else 2.0))
        current = pv["current"].value * math.exp(-dt / 3600.0)
        pv["current"].value = 300.0 if current < 160.0 else current
        x = np.linspace(0, 10, 1000)
        spectrum = 100 * np.exp(-((x - 5 - math.sin(t)) ** 2)) + self._rng.normal(0, 2, 1000)
        pv["spectrum"].value = spectrum if open_ else np.zeros(1000)

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(self.period):
            now = time.monotonic()
            try:
                self._step(now, now - last)
            except Exception:  # the demo must not die while a user watches it
                import logging

                logging.getLogger(__name__).exception("demo step failed")
            last = now

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for handle in self.pvs.values():
            handle.remove()


def start(prefix: str = PREFIX) -> DemoBeamline:
    """Host the demo beamline and start moving it."""
    return DemoBeamline(prefix)
