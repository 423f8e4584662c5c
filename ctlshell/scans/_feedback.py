"""What a scientist sees of a run while it goes and after: a live table of every
event (bluesky's ``LiveTable``) and the peak statistics of each detector over the
first motor, kept in :data:`peaks` and printed when the run ends.

A plain ``(name, doc)`` callable subscribed to the RunEngine; it runs on the
RunEngine's thread and touches no device.
"""

from __future__ import annotations

import logging
import numbers
from typing import Any

from ._nexus_config import in_plan_order
from ._peaks import Peaks, PeakStats, peak_stats

__all__ = ["Feedback", "peaks"]

log = logging.getLogger(__name__)

#: The peak statistics of the last run (``peaks.cen["DEMO:DET:COUNTS"]``).
peaks = Peaks()


class Feedback:
    """Live table and peak statistics for every run of a RunEngine.

    Parameters
    ----------
    table : bool
        Print a live table (one row per event).
    """

    def __init__(self, table: bool = True) -> None:
        self.table = table
        self._table: Any = None
        self._motor = ""
        self._detectors: list[str] = []
        self._points: dict[str, list[tuple[float, float]]] = {}
        self._start_doc: dict[str, Any] = {}

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        try:
            getattr(self, f"_{name}", self._other)(name, doc)
        except Exception:  # a display must never stop a run
            log.exception("live feedback failed on a %s document", name)

    def _start(self, name: str, doc: dict[str, Any]) -> None:
        motors = list(doc.get("motors") or [])
        self._motor = motors[0] if motors else ""
        self._detectors = list(doc.get("detectors") or [])
        self._points = {d: [] for d in self._detectors}
        self._table = None
        self._start_doc = doc

    def _descriptor(self, name: str, doc: dict[str, Any]) -> None:
        if self._table is not None:
            self._table(name, doc)
            return
        if not self.table or doc.get("name") != "primary":
            return
        from bluesky.callbacks import LiveTable

        keys = doc.get("data_keys", {})
        scalars = [k for k in keys if not keys[k].get("shape")]  # a table shows numbers, not arrays
        motors = [m for m in self._start_doc.get("motors") or [] if m in scalars]
        columns = in_plan_order([k for k in scalars if k not in motors], self._detectors)
        self._table = LiveTable([*motors, *columns], default_prec=4)
        self._table("start", self._start_doc)
        self._table(name, doc)

    def _event(self, name: str, doc: dict[str, Any]) -> None:
        if self._table is not None:
            self._table(name, doc)
        data = doc.get("data", {})
        x = data.get(self._motor)
        if not isinstance(x, numbers.Real):
            return
        for det in self._detectors:
            y = data.get(det)
            if isinstance(y, numbers.Real) and not isinstance(y, bool):
                self._points[det].append((float(x), float(y)))

    def _stop(self, name: str, doc: dict[str, Any]) -> None:
        if self._table is not None:
            self._table(name, doc)
            self._table = None
        stats: dict[str, PeakStats] = {}
        for det, pts in self._points.items():
            if len(pts) >= 2:
                xs, ys = zip(*pts)
                stats[det] = peak_stats(xs, ys)
        if stats:
            peaks.update(self._motor, stats)
            print(repr(peaks))

    def _other(self, name: str, doc: dict[str, Any]) -> None:
        if self._table is not None:
            self._table(name, doc)
