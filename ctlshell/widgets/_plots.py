"""The live plots: a strip chart of scalars against time, a waveform / spectrum view,
and an x-y scan view (detector against motor). Data go into ring buffers of a
stated length (:class:`Ring`); drawing happens on the ticker at the frame-rate cap."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core import KeepLast, Reading
from ._live import canonical
from ._plotbase import LivePlot
from ._ring import Ring

__all__ = ["ScanView", "StripChart", "WaveformView"]


def decimate(x: np.ndarray, y: np.ndarray, most: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``most`` points with the same look: the min and max of each bucket
    (a line of 10 000 points is no sharper than the pixels it is drawn on)."""
    if len(x) <= most:
        return x, y
    buckets = most // 2
    n = len(x) // buckets * buckets
    xb, yb = x[-n:].reshape(buckets, -1), y[-n:].reshape(buckets, -1)
    lo, hi = np.nanargmin(np.where(np.isnan(yb), np.inf, yb), axis=1), np.nanargmax(
        np.where(np.isnan(yb), -np.inf, yb), axis=1)
    rows = np.arange(buckets)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)  # keep time order inside a bucket
    xs = np.column_stack((xb[rows, first], xb[rows, second])).ravel()
    ys = np.column_stack((yb[rows, first], yb[rows, second])).ravel()
    return xs, ys


class StripChart(LivePlot):
    """Scalars against time, one line per address, the newest at the right.

    Parameters
    ----------
    addresses : str or sequence of str
    length : int
        Points kept per address (ring buffer; default 10 000).
    window : float
        Seconds shown (default 60); the x axis is seconds before now.
    fps : float
        Frame-rate cap (default 20).
    interactive : bool, optional
        Refill the notebook image on each frame (default: when in a Jupyter kernel);
        False only draws the Agg canvas (scripts, the bench).

    Raises
    ------
    AddressError, NotFoundError, ChannelTimeoutError
        Any address bad or unknown; nothing is subscribed.
    """

    def __init__(self, addresses: str | Sequence[str], *, length: int = 10_000, window: float = 60.0,
                 fps: float = 20.0, interactive: bool | None = None) -> None:
        self.addresses = canonical(addresses)
        metadata = self._metadata(self.addresses)
        super().__init__(fps, ", ".join(a.split("://", 1)[-1] for a in self.addresses), interactive)
        self.metadata = metadata
        self.window = float(window)
        self.max_drawn = 1000  # points drawn per line at most (min/max per bucket)
        self.rings = {a: Ring(length) for a in self.addresses}
        self.lines = {}
        for a in self.addresses:
            units = metadata[a].units
            (self.lines[a],) = self.ax.plot([], [], label=f"{a.split('://', 1)[-1]}" + (f" [{units}]" if units else ""))
        self.ax.set_xlabel("seconds before now")
        self.ax.legend(loc="upper left", fontsize="small")
        self.ax.set_xlim(-self.window, 0)
        for a in self.addresses:
            self._subscribe(a, self._receiver(a), policy=KeepLast(min(length, 10_000)))
        self._start()

    def _receiver(self, address: str) -> Any:
        ring = self.rings[address]

        def receive(r: Reading) -> None:
            if r.connected:
                try:
                    ring.append(r.timestamp, float(r.value))
                except (TypeError, ValueError):
                    return  # not a scalar number: nothing to draw
            else:
                ring.append(r.timestamp, np.nan)  # a gap in the line where the server was gone
            self._mark()
        return receive

    def _update_artists(self) -> None:
        now = time.time()
        for a, ring in self.rings.items():
            t, y = ring.arrays()
            keep = t >= now - self.window
            self.lines[a].set_data(*decimate(t[keep] - now, y[keep], self.max_drawn))
        self.ax.set_xlim(-self.window, 0)

    def _frame(self) -> None:
        super()._frame()
        self.ax.set_xlim(-self.window, 0)  # autoscale moves y only


class WaveformView(LivePlot):
    """The newest value of an array channel (a waveform, a spectrum) against its index."""

    def __init__(self, address: str, *, fps: float = 10.0, interactive: bool | None = None) -> None:
        (self.address,) = canonical([address])
        meta = self._metadata([self.address])[self.address]
        super().__init__(fps, self.address.split("://", 1)[-1], interactive)
        self.metadata = meta
        self._latest: dict[str, Reading] = {}
        (self.line,) = self.ax.plot([], [])
        self.ax.set_xlabel("index")
        self.ax.set_ylabel(meta.units)
        self._subscribe(self.address, self._reading_store(self._latest, self.address, self._mark))
        self._start()

    def _update_artists(self) -> None:
        r = self._latest.get(self.address)
        if r is None or not r.connected:
            return
        y = np.atleast_1d(np.asarray(r.value, dtype=float))
        self.line.set_data(np.arange(y.size), y)


class ScanView(LivePlot):
    """Detector against motor: each detector update is drawn at the motor's newest position.

    Parameters
    ----------
    detector, motor : str
    length : int
        Points kept (ring buffer; default 10 000).
    """

    def __init__(self, detector: str, motor: str, *, length: int = 10_000, fps: float = 10.0,
                 interactive: bool | None = None) -> None:
        self.detector, self.motor = canonical([detector, motor])
        meta = self._metadata([self.detector, self.motor])
        super().__init__(fps, f"{self.detector.split('://', 1)[-1]} vs {self.motor.split('://', 1)[-1]}", interactive)
        self.metadata = meta
        self.ring = Ring(length)
        self._position: float | None = None
        (self.line,) = self.ax.plot([], [], ".", markersize=4)
        self.ax.set_xlabel(f"{self.motor.split('://', 1)[-1]} [{meta[self.motor].units}]")
        self.ax.set_ylabel(f"{self.detector.split('://', 1)[-1]} [{meta[self.detector].units}]")
        self._subscribe(self.motor, self._on_motor)
        self._subscribe(self.detector, self._on_detector, policy=KeepLast(min(length, 10_000)))
        self._start()

    def _on_motor(self, r: Reading) -> None:
        if r.connected:
            self._position = float(r.value)

    def _on_detector(self, r: Reading) -> None:
        if r.connected and self._position is not None:
            self.ring.append(self._position, float(r.value))
            self._mark()

    def clear(self) -> None:
        """Forget the points drawn so far (a new scan)."""
        self.ring = Ring(self.ring.length)
        self._mark()

    def _update_artists(self) -> None:
        x, y = self.ring.arrays()
        self.line.set_data(x, y)
