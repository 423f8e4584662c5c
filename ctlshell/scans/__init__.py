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
from ._recorder import NexusRecorder
from ._suspend import Watched, suspend_while, watch
from ._plans import count, grid_scan, list_scan, rel_grid_scan, rel_scan, scan, scan_nd

__all__ = [
    "RE", "AddressMotor", "Feedback", "NexusRecorder", "PeakStats", "Peaks", "count", "device", "grid_scan", "list_scan", "motor", "peak_stats",
    "peaks", "record_runs", "rel_grid_scan", "rel_scan", "run_engine", "scan", "scan_nd", "signal", "stop_recording", "suspend_while", "watch", "Watched",
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


def record_runs(writer: Any = None, data_dir: str | None = None, **options: Any) -> NexusRecorder:
    """Record every run of the session's RunEngine to NeXus from now on (one file per run);
    ``stop_recording(recorder)`` ends it. See :class:`NexusRecorder` for the options."""
    recorder = NexusRecorder(writer, data_dir, **options)
    recorder.token = run_engine().subscribe(recorder)
    return recorder


def stop_recording(recorder: NexusRecorder) -> None:
    """Stop recording runs with ``recorder`` (and stop the writer it started)."""
    token = getattr(recorder, "token", None)
    if token is not None:
        run_engine().unsubscribe(token)
        recorder.token = None
    recorder.close()


def __getattr__(name: str) -> Any:
    if name == "RE":  # made on first use: importing ctlshell.scans starts no loop
        return run_engine()
    raise AttributeError(name)
