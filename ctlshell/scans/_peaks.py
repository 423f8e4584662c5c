"""Peak statistics of a scan, per detector: ``cen``, ``com``, ``fwhm``, ``max``, ``min``.

Pure: takes positions and values, returns numbers (no documents, no devices). The
definitions follow bluesky's ``PeakStats``: ``max``/``min`` are (position, value) of
the extreme points; ``com`` the centre of mass above the minimum; ``cen`` the middle
of the two half-maximum crossings around the maximum (interpolated linearly) and
``fwhm`` their distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PeakStats", "Peaks", "peak_stats"]


@dataclass(frozen=True)
class PeakStats:
    """The statistics of one detector over one motor."""

    cen: float
    com: float
    fwhm: float
    max: tuple[float, float]
    min: tuple[float, float]

    def __str__(self) -> str:
        return (f"cen {self.cen:.4g}  com {self.com:.4g}  fwhm {self.fwhm:.4g}  "
                f"max {self.max[1]:.4g} at {self.max[0]:.4g}  min {self.min[1]:.4g} at {self.min[0]:.4g}")


def _crossing(x0: float, y0: float, x1: float, y1: float, level: float) -> float:
    return x0 if y1 == y0 else x0 + (level - y0) * (x1 - x0) / (y1 - y0)


def peak_stats(x: Any, y: Any) -> PeakStats:
    """Statistics of ``y`` over ``x`` (any order; sorted by ``x`` here).

    Raises
    ------
    ValueError
        Fewer than two points, or lengths differ.
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1 or len(xs) < 2:
        raise ValueError(f"peak statistics need two or more (x, y) points, not {len(xs)}")
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    imax, imin = int(np.argmax(ys)), int(np.argmin(ys))
    base = ys[imin]
    weights = ys - base
    com = float(np.sum(xs * weights) / np.sum(weights)) if np.sum(weights) > 0 else float(xs[imax])
    half = base + (ys[imax] - base) / 2
    left, right = float(xs[0]), float(xs[-1])
    for i in range(imax, 0, -1):
        if ys[i - 1] <= half:
            left = _crossing(xs[i - 1], ys[i - 1], xs[i], ys[i], half)
            break
    for i in range(imax, len(xs) - 1):
        if ys[i + 1] <= half:
            right = _crossing(xs[i], ys[i], xs[i + 1], ys[i + 1], half)
            break
    return PeakStats(cen=(left + right) / 2, com=com, fwhm=right - left,
                     max=(float(xs[imax]), float(ys[imax])), min=(float(xs[imin]), float(ys[imin])))


class _Field(dict):
    """``peaks.cen["det"]``: one statistic of every detector of the last run."""

    def __init__(self, stat: str, what: str) -> None:
        super().__init__()
        self._stat, self._what = stat, what

    def __missing__(self, key: str) -> Any:
        raise KeyError(f"no {self._stat} for {key!r} in the last {self._what}; detectors: {sorted(self)}")


class Peaks:
    """The peak statistics of the last run, by detector name, as bluesky's ``bec.peaks``:
    ``peaks.cen["DEMO:DET:COUNTS"]``, ``peaks["DEMO:DET:COUNTS"]`` (all of them)."""

    def __init__(self) -> None:
        self.stats: dict[str, PeakStats] = {}
        self.motor = ""

    def update(self, motor: str, stats: dict[str, PeakStats]) -> None:
        self.motor, self.stats = motor, dict(stats)

    def _field(self, stat: str) -> dict[str, Any]:
        out = _Field(stat, f"scan over {self.motor}" if self.motor else "scan (none yet)")
        out.update({name: getattr(s, stat) for name, s in self.stats.items()})
        return out

    cen = property(lambda self: self._field("cen"))
    com = property(lambda self: self._field("com"))
    fwhm = property(lambda self: self._field("fwhm"))
    max = property(lambda self: self._field("max"))
    min = property(lambda self: self._field("min"))

    def __getitem__(self, name: str) -> PeakStats:
        try:
            return self.stats[name]
        except KeyError:
            raise KeyError(f"no peak statistics for {name!r}; detectors: {sorted(self.stats)}") from None

    def __repr__(self) -> str:
        if not self.stats:
            return "<Peaks: no scan yet>"
        lines = [f"Peaks over {self.motor}:"] + [f"  {name}: {s}" for name, s in self.stats.items()]
        return "\n".join(lines)
