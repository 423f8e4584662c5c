"""Scans on bluesky: devices made from ctlshell addresses, a RunEngine per session,
the standard plans taking addresses, a live table and peak statistics of every run.

>>> from ctlshell.scans import RE, scan, peaks      # doctest: +SKIP
>>> RE(scan(["DEMO:DET:COUNTS"], "DEMO:MOTOR", 0, 5, 26))
>>> peaks.cen["DEMO:DET:COUNTS"]
"""

from typing import Any

from ._devices import AddressMotor, device, motor, signal
from ._feedback import Feedback, peaks
from ._peaks import Peaks, PeakStats, peak_stats
from ._plans import count, grid_scan, list_scan, rel_grid_scan, rel_scan, scan, scan_nd

__all__ = [
    "RE", "AddressMotor", "Feedback", "PeakStats", "Peaks", "count", "device", "grid_scan", "list_scan", "motor", "peak_stats",
    "peaks", "rel_grid_scan", "rel_scan", "run_engine", "scan", "scan_nd", "signal",
]

_feedback: Feedback | None = None


def run_engine() -> Any:
    """The session's RunEngine, with the live table and peak statistics subscribed."""
    global _feedback
    from ._engine import run_engine as _make

    RE = _make()
    if _feedback is None:
        _feedback = Feedback()
        RE.subscribe(_feedback)
    return RE


def __getattr__(name: str) -> Any:
    if name == "RE":  # made on first use: importing ctlshell.scans starts no loop
        return run_engine()
    raise AttributeError(name)
