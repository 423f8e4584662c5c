"""A live plot of a bluesky run, fed by the run's documents: every detector against
the first motor (or the point number), one y axis per unit, redrawn by the frame
clock so it keeps moving while the plan runs in a cell (bluesky's own LivePlot
freezes in a notebook until the cell ends). Subscribe it to a RunEngine:
``RE.subscribe(RunPlot())``; each run's start clears it and, in a notebook, shows it.
"""

from __future__ import annotations

import numbers
import threading
from typing import Any

from ._plotbase import LivePlot

__all__ = ["RunPlot"]


class RunPlot(LivePlot):
    """Detectors against the first motor of each run, from its documents.

    Parameters
    ----------
    fps : float
        Frame-rate cap of the redraws.
    show : bool, optional
        Display it in the notebook when a run starts (default: inside a kernel).
    """

    def __init__(self, *, fps: float = 10.0, show: bool | None = None, interactive: bool | None = None) -> None:
        super().__init__(fps, "no run yet", interactive)
        self.show = self.interactive if show is None else show
        self.points: dict[str, tuple[list[float], list[float]]] = {}
        self._lines: dict[str, Any] = {}
        self._units: dict[str, str] = {}
        self._motor = ""
        self._lock = threading.Lock()
        self._start()

    def __call__(self, name: str, doc: dict[str, Any]) -> None:
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(doc)

    def _on_start(self, doc: dict[str, Any]) -> None:
        motors = list(doc.get("motors") or [])
        with self._lock:
            self._motor = motors[0] if motors else ""
            self.points = {d: ([], []) for d in doc.get("detectors") or []}
            self._units = {}
            self._lines = {}
            for ax in self.axes[1:]:
                ax.remove()
            self.axes = [self.ax]
            self.ax.clear()
            self.ax.grid(True, alpha=0.3)
            self.ax.set_title(f"scan {doc.get('scan_id', '')}: {doc.get('plan_name', '')}", fontsize="small")
            self.ax.set_xlabel(self._motor or "point")
        self._mark()
        if self.show:
            from IPython.display import display

            display(self)

    def _on_descriptor(self, doc: dict[str, Any]) -> None:
        if doc.get("name") != "primary":
            return
        keys = doc.get("data_keys", {})
        with self._lock:
            for det in self.points:
                self._units[det] = str(keys.get(det, {}).get("units") or "")
            if self._motor in keys and keys[self._motor].get("units"):
                self.ax.set_xlabel(f"{self._motor} [{keys[self._motor]['units']}]")
            by_unit: dict[str, Any] = {}
            for det in self.points:
                unit = self._units[det]
                if unit not in by_unit:
                    ax = self.ax if not by_unit else self.ax.twinx()
                    if ax is not self.ax:
                        ax.spines["right"].set_position(("axes", 1 + 0.12 * (len(by_unit) - 1)))
                        self.axes.append(ax)
                    ax.set_ylabel(unit or "value")
                    by_unit[unit] = ax
                (self._lines[det],) = by_unit[unit].plot([], [], ".-", markersize=4, label=det)

    def _on_event(self, doc: dict[str, Any]) -> None:
        data = doc.get("data", {})
        x = data.get(self._motor) if self._motor else doc.get("seq_num")
        if not isinstance(x, numbers.Real):
            return
        with self._lock:
            for det, (xs, ys) in self.points.items():
                y = data.get(det)
                if isinstance(y, numbers.Real) and not isinstance(y, bool):
                    xs.append(float(x))
                    ys.append(float(y))
        self._mark()

    def _update_artists(self) -> None:
        with self._lock:
            for det, line in self._lines.items():
                line.set_data(*self.points[det])
