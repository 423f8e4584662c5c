"""Issue 20, bad input: a detector's IOC stopped (by its PID) mid-scan pauses the run
with one line naming the address -- no crash, no hang; restarting the IOC and
``RE.resume()`` completes the scan, and the NeXus file keeps every point taken before."""

from __future__ import annotations

import threading
import time

import h5py
import pytest
from bluesky.utils import RunEngineInterrupted

import ctlshell
from ctlshell.demo import DemoBeamline
from ctlshell.scans import RE, record_runs, scan, stop_recording

from .conftest import caproto_example

POINTS = 11


def test_a_detector_disconnecting_mid_scan_pauses_the_run_and_resume_completes_it(ioc, prefix, tmp_path, capsys):
    beamline = ctlshell.host(DemoBeamline(prefix))
    server = ioc(*caproto_example("simple", f"{prefix}IOC:"))
    det, mot = f"{prefix}IOC:A", f"{prefix}MOTOR"
    # 0.5 s a point: the scan is still running when the IOC, stopped after 4 points, is gone
    ctlshell.put(f"{prefix}MOTOR.VELO", 1.0, wait=True)
    events: list[dict] = []
    token = RE.subscribe(lambda name, doc: events.append(doc) if name == "event" else None)
    stopped = threading.Event()

    def stop_the_ioc() -> None:
        while len(events) < 4:
            time.sleep(0.005)
        server.stop()  # by its PID: the detector's server is gone mid-scan
        stopped.set()

    recorder = record_runs(data_dir=str(tmp_path))
    actor = threading.Thread(target=stop_the_ioc)
    try:
        actor.start()
        started = time.monotonic()
        with pytest.raises(RunEngineInterrupted):
            RE(scan([det], mot, 0, 5, POINTS, per_step=None))
        paused_after = time.monotonic() - started
        actor.join()
        said = capsys.readouterr().out
        taken = len(events)
        assert stopped.is_set() and RE.state == "paused"
        assert f"{det} disconnected mid-run" in said and "RE.resume()" in said, said
        assert 4 <= taken < POINTS
        with h5py.File(recorder.files[0], "r", swmr=True) as f:  # readable while the run is paused
            assert len(f["entry/data"][f["entry/data"].attrs["signal"]]) == taken
        server.start()  # the IOC is back on its port
        result = RE.resume()
    finally:
        RE.unsubscribe(token)
        if RE.state == "paused":
            RE.abort()
        stop_recording(recorder)
        ctlshell.unhost(beamline)
    assert paused_after < 60, paused_after  # paused, not hung
    assert result.exit_status == "success" and len(events) == POINTS
    positions = [e["data"][mot] for e in events]
    assert [round(p, 6) for p in positions] == [round(0.5 * i, 6) for i in range(POINTS)]
    with h5py.File(recorder.files[0], "r") as f:
        data = f["entry/data"]
        assert [round(x, 6) for x in data[data.attrs["axes"]][()]] == [round(0.5 * i, 6) for i in range(POINTS)]
        assert len(data[data.attrs["signal"]]) == POINTS and f["entry/exit_status"][()] == b"success"
