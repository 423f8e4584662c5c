"""The demo beamline hosted in-process, for ``ctlshell --demo``, ``make demo`` and the
notebooks: a :class:`Device` built on the example motor.

- ``DEMO:MOTOR`` (setpoint, limits -10..10 mm), ``DEMO:MOTOR.RBV`` moving at
  ``DEMO:MOTOR.VELO`` mm/s, ``DEMO:MOTOR.MOVN`` (moving flag), ``DEMO:MOTOR.STOP``;
  a put with callback on ``DEMO:MOTOR`` completes when the move has ended;
- ``DEMO:DET:COUNTS``: Poisson counts of a peak at 2.5 mm over the motor position,
  near zero while ``DEMO:SHUTTER`` is Closed;
- ``DEMO:RING:CURRENT``: decaying from 300 mA, refilled below 160 mA, with alarms;
- ``DEMO:SAMPLE:TEMP``: a writable temperature with limits and alarms;
- ``DEMO:SPECTRUM``: a 1000-point spectrum at 10 Hz.

Everything moves on the device's own thread through the push queue.
"""

from __future__ import annotations

import math
import time

import numpy as np

from . import api
from .examples.motor import Motor
from .host import DevicePV

__all__ = ["DemoBeamline", "start"]

PREFIX = "DEMO:"


class DemoBeamline(Motor):
    """The demo PVs, on one device thread (50 Hz motor, 10 Hz spectrum)."""

    pv_names = {"VAL": "MOTOR", "RBV": "MOTOR.RBV", "VELO": "MOTOR.VELO", "MOVN": "MOTOR.MOVN",
                "STOP": "MOTOR.STOP", "COUNTS": "DET:COUNTS"}
    CURRENT = DevicePV(300.0, name="RING:CURRENT", units="mA", precision=2, alarm_limits=(150, 400),
                       warning_limits=(200, 350))
    SHUTTER = DevicePV("Closed", enum=["Open", "Closed"], writable=True)
    TEMP = DevicePV(295.0, name="SAMPLE:TEMP", units="K", precision=2, limits=(4, 500),
                    alarm_limits=(10, 450), warning_limits=(20, 400), writable=True)
    SPECTRUM = DevicePV(np.zeros(1000), units="counts")

    spectrum_every = 5  # acquisitions (of 20 ms) per spectrum
    current_lifetime = 3600.0  # seconds

    def __init__(self, prefix: str = PREFIX) -> None:
        super().__init__(prefix)
        self._current = 300.0
        self._step = 0
        self._x = np.linspace(0, 10, 1000)
        self._t0 = time.monotonic()

    @property
    def shutter_open(self) -> bool:
        return bool(self._pvs) and self.get("SHUTTER") == 0

    def count_rate(self, position: float) -> float:
        return super().count_rate(position) if self.shutter_open else 2.0

    def acquire(self) -> None:
        super().acquire()  # the motor and the detector
        self._step += 1
        if self._step % self.spectrum_every:
            return
        dt = self.period * self.spectrum_every
        self._current *= math.exp(-dt / self.current_lifetime)
        if self._current < 160.0:
            self._current = 300.0
        t = time.monotonic() - self._t0
        if self.shutter_open:
            spectrum = 100 * np.exp(-((self._x - 5 - math.sin(t)) ** 2)) + self._rng.normal(0, 2, 1000)
        else:
            spectrum = np.zeros(1000)
        self.push(CURRENT=self._current, SPECTRUM=spectrum)

    @property
    def pvs(self) -> dict[str, str]:
        """Attribute -> PV name."""
        return {attr: self.pv_name(attr) for attr in self.specs}


def start(prefix: str = PREFIX) -> DemoBeamline:
    """Host the demo beamline and start moving it; ``ctlshell.unhost(demo)`` stops it.
    Idempotent: the demo already running under ``prefix`` in this session is returned."""
    for obj in api.session().objects:
        if isinstance(obj, DemoBeamline) and obj.prefix == prefix:
            return obj
    return api.host(DemoBeamline(prefix))
