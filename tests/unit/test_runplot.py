"""ctlshell.widgets.RunPlot fed by hand-made bluesky documents: the points drawn are
the events' (detector against the first motor), one y axis per unit, a new run
starts from nothing, and the picture changes as events arrive."""

from __future__ import annotations

import time

from ctlshell.widgets import RunPlot


def _run(plot: RunPlot, n: int, units: dict[str, str]) -> None:
    plot("start", {"motors": ["m"], "detectors": list(units), "scan_id": 1, "plan_name": "scan"})
    plot("descriptor", {"name": "primary", "data_keys": {"m": {"units": "mm"},
                                                        **{d: {"units": u} for d, u in units.items()}}})
    plot("descriptor", {"name": "baseline", "data_keys": {}})
    for i in range(n):
        plot("event", {"data": {"m": 0.5 * i, **{d: float(i * (k + 1)) for k, d in enumerate(units)}}})


def _drawn(plot: RunPlot, timeout: float = 5.0) -> bytes:
    deadline = time.monotonic() + timeout
    frames = plot.frames
    while plot.frames == frames and time.monotonic() < deadline:  # the frame clock redraws
        time.sleep(0.02)
    return plot.png()


def test_points_axes_and_a_new_run():
    plot = RunPlot(show=False, interactive=False)
    try:
        _run(plot, 5, {"det": "counts", "volts": "V"})
        assert plot.points["det"] == ([0.0, 0.5, 1.0, 1.5, 2.0], [0.0, 1.0, 2.0, 3.0, 4.0])
        assert len(plot.axes) == 2 and plot.axes[1].get_ylabel() == "V"
        first = _drawn(plot)
        plot("event", {"data": {"m": 3.0, "det": 40.0, "volts": 1.0}})
        assert _drawn(plot) != first
        _run(plot, 2, {"det": "counts"})
        assert plot.points == {"det": ([0.0, 0.5], [0.0, 1.0])} and len(plot.axes) == 1
    finally:
        plot.close()


def test_events_without_a_number_are_not_drawn():
    plot = RunPlot(show=False, interactive=False)
    try:
        plot("start", {"motors": ["m"], "detectors": ["det"]})
        plot("event", {"data": {"m": "far", "det": 1.0}})
        plot("event", {"data": {"m": 1.0, "det": None}})
        assert plot.points == {"det": ([], [])}
    finally:
        plot.close()
