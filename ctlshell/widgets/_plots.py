"""The live plots: a strip chart of scalars against time, a waveform / spectrum view,
and an x-y scan view (detector against motor). Data go into ring buffers of a
stated length (:class:`Ring`); drawing happens on the ticker at the frame-rate cap."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core import KeepLast, Metadata, Reading
from ._live import canonical
from ._plotbase import LivePlot
from ._ring import Ring

__all__ = ["ScanView", "StripChart", "WaveformView", "axis_keys", "held_to_now", "pair_by_time"]


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


def axis_keys(addresses: Sequence[str], metadata: dict[str, Metadata]) -> dict[str, str]:
    """The y axis each address is drawn on: one per unit; a PV without units gets its own
    (counts and millimetres never share a scale: a move would draw as a flat line)."""
    return {a: metadata[a].units or f"({a.split('://', 1)[-1]})" for a in addresses}


def held_to_now(t: np.ndarray, y: np.ndarray, now: float, window: float) -> tuple[np.ndarray, np.ndarray]:
    """The points of the last ``window`` seconds as seconds before ``now``, with the value
    before the window held from its left edge and the newest value held up to now: a
    channel's value stands until it changes (a PV silent for 5 s is still drawn to now)."""
    keep = t >= now - window
    x, v = t[keep] - now, y[keep]
    first = int(np.argmax(keep)) if keep.any() else len(t)
    if first > 0 and np.isfinite(y[first - 1]):  # the value that stood when the window began
        x, v = np.concatenate(([-window], x)), np.concatenate(([y[first - 1]], v))
    if len(v) and np.isfinite(v[-1]) and x[-1] < 0:  # a lost channel (NaN) is not held
        x, v = np.append(x, 0.0), np.append(v, v[-1])
    return x, v


class StripChart(LivePlot):
    """Scalars against time, one line per address, the newest at the right; one y axis
    per unit (the first on the left, the others on the right), each value held as a
    step until it changes and up to now.

    Parameters
    ----------
    addresses : str or sequence of str
    length : int
        Points kept per address (ring buffer; default 10 000).
    window : float
        Seconds shown (default 60); the x axis is seconds before now.
    fps : float
        Frame-rate cap (default 20). While nothing arrives the chart still redraws
        once a second, since time moves on.
    interactive : bool, optional
        Refill the notebook image on each frame (default: when in a Jupyter kernel);
        False only draws the Agg canvas (scripts, the bench).

    Attributes
    ----------
    axis_of : dict of str to matplotlib Axes
        The y axis each address is drawn on.

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
        self.axis_of = self._make_axes(axis_keys(self.addresses, metadata))
        for n, a in enumerate(self.addresses):
            units = metadata[a].units
            (self.lines[a],) = self.axis_of[a].plot([], [], color=f"C{n % 10}", drawstyle="steps-post",
                                                    label=a.split("://", 1)[-1] + (f" [{units}]" if units else ""))
        self.ax.set_xlabel("seconds before now")
        self.ax.legend(handles=list(self.lines.values()), loc="upper left", fontsize="small")
        self.ax.set_xlim(-self.window, 0)
        self._last_frame = 0.0
        for a in self.addresses:
            self._subscribe(a, self._receiver(a), policy=KeepLast(min(length, 10_000)))
        self._start()

    def _make_axes(self, keys: dict[str, str]) -> dict[str, Any]:
        by_key: dict[str, Any] = {}
        for key in dict.fromkeys(keys.values()):
            if not by_key:
                ax = self.ax
            else:
                ax = self.ax.twinx()
                if len(by_key) > 1:  # a third scale and more: their spines side by side on the right
                    ax.spines["right"].set_position(("axes", 1 + 0.12 * (len(by_key) - 1)))
                self.axes.append(ax)
            ax.set_ylabel(key)
            by_key[key] = ax
        return {a: by_key[k] for a, k in keys.items()}

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

    def _tick(self) -> None:
        if time.monotonic() - self._last_frame >= 1.0:
            self._mark()  # time moves on: held values extend to now even when nothing arrives
        super()._tick()

    def _update_artists(self) -> None:
        now = time.time()
        for a, ring in self.rings.items():
            t, y = ring.arrays()
            self.lines[a].set_data(*decimate(*held_to_now(t, y, now, self.window), self.max_drawn))
        self.ax.set_xlim(-self.window, 0)

    def _frame(self) -> None:
        self._last_frame = time.monotonic()
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


def pair_by_time(t_detector: np.ndarray, t_motor: np.ndarray, x_motor: np.ndarray) -> np.ndarray:
    """The motor position at each detector timestamp: the readback interpolated between
    the two motor readings around it (held before the first and after the last).

    Pairing by arrival (the newest motor value when a count arrives) puts counts at
    wherever the motor update that happened to come first says; the server
    timestamps say where the motor was when the counts were taken."""
    good = np.isfinite(t_motor) & np.isfinite(x_motor)
    if not good.any():
        return np.full(len(t_detector), np.nan)
    order = np.argsort(t_motor[good], kind="stable")
    return np.interp(t_detector, t_motor[good][order], x_motor[good][order])


class ScanView(LivePlot):
    """Detector against motor: each detector reading is drawn at the motor position at
    that reading's timestamp (the readback interpolated by server time, not the newest
    value at arrival).

    Parameters
    ----------
    detector, motor : str
    length : int
        Points kept (ring buffers of the detector and of the motor; default 10 000).
    """

    def __init__(self, detector: str, motor: str, *, length: int = 10_000, fps: float = 10.0,
                 interactive: bool | None = None) -> None:
        self.detector, self.motor = canonical([detector, motor])
        meta = self._metadata([self.detector, self.motor])
        super().__init__(fps, f"{self.detector.split('://', 1)[-1]} vs {self.motor.split('://', 1)[-1]}", interactive)
        self.metadata = meta
        self.ring = Ring(length)  # detector: (timestamp, counts)
        self.motor_ring = Ring(length)  # motor: (timestamp, position)
        (self.line,) = self.ax.plot([], [], ".", markersize=4)
        self.ax.set_xlabel(f"{self.motor.split('://', 1)[-1]} [{meta[self.motor].units}]")
        self.ax.set_ylabel(f"{self.detector.split('://', 1)[-1]} [{meta[self.detector].units}]")
        self._subscribe(self.motor, self._on_motor, policy=KeepLast(min(length, 10_000)))
        self._subscribe(self.detector, self._on_detector, policy=KeepLast(min(length, 10_000)))
        self._start()

    def _on_motor(self, r: Reading) -> None:
        if r.connected:
            self.motor_ring.append(r.timestamp, float(r.value))
            self._mark()

    def _on_detector(self, r: Reading) -> None:
        if r.connected:
            self.ring.append(r.timestamp, float(r.value))
            self._mark()

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """(motor position, detector value) of every detector reading kept; readings taken
        before the first motor reading are left out (where the motor was is not known)."""
        t, y = self.ring.arrays()
        tm, xm = self.motor_ring.arrays()
        if not len(tm):
            return np.array([]), np.array([])
        known = t >= np.nanmin(tm)
        return pair_by_time(t[known], tm, xm), y[known]

    def peak(self) -> tuple[float, float]:
        """(centre, maximum) of the peak drawn so far: the centre is the mean position of
        the points above half the maximum, weighted by their height above it (one noisy
        count does not move it, as bluesky's ``PeakStats`` ``cen``); the maximum is the
        highest detector value.

        Raises
        ------
        ValueError
            No point drawn yet.
        """
        x, y = self.points()
        good = np.isfinite(x) & np.isfinite(y)
        if not good.any():
            raise ValueError("no points yet")
        x, y = x[good], y[good]
        top = float(y.max())
        half = (top + float(y.min())) / 2
        weight = np.clip(y - half, 0, None)
        if not weight.sum() > 0:
            return float(x[int(np.argmax(y))]), top
        return float((x * weight).sum() / weight.sum()), top

    def clear(self) -> None:
        """Forget the points drawn so far (a new scan)."""
        self.ring = Ring(self.ring.length)
        self._mark()

    def _update_artists(self) -> None:
        self.line.set_data(*self.points())
