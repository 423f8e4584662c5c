"""Issue 20, acceptance 4 over ``tango://``: the plan of the ca:// and pva:// scans runs
over a Tango ``CtlMotor`` (moving while its State is MOVING, stopped by ``Stop``) and a
``CtlTestDevice``, is recorded to NeXus and read back with h5py; Ctrl-C during a Tango
move stops the motor."""

from __future__ import annotations

import os
import signal
import threading
import time

import h5py
import pytest
from bluesky.utils import RunEngineInterrupted

import ctlshell
from ctlshell.scans import RE, motor, record_runs, scan, stop_recording

from .tango_fixtures import device


def _interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def _settled(address: str, seconds: float = 2.0) -> tuple[float, float]:
    """(time the value stopped changing, its value), watching for ``seconds``."""
    last, since = ctlshell.get(address).value, time.monotonic()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = ctlshell.get(address).value
        if value != last:
            last, since = value, time.monotonic()
        time.sleep(0.01)
    return since, last


def test_a_scan_over_a_tango_motor_and_device_recorded_to_nexus(tango_server, tmp_path):
    dev, mot = device(tango_server, "dev"), device(tango_server, "motor")
    position, state = tango_server.address(mot, "position"), tango_server.address(mot, "State")
    ctlshell.put(tango_server.address(mot, "velocity"), 5.0, wait=True)  # 0.5 mm steps take 0.1 s
    ctlshell.put(tango_server.address(dev, "double_scalar"), 4.25, wait=True)
    ctlshell.put(tango_server.address(dev, "long_scalar"), 7, wait=True)
    states: list[str] = []
    token = RE.subscribe(lambda name, doc: states.append(ctlshell.get(state).value) if name == "event" else None)
    recorder = record_runs(data_dir=str(tmp_path))
    try:
        result = RE(scan([tango_server.address(dev, "double_scalar"), tango_server.address(dev, "long_scalar")],
                         position, 1.0, 3.0, 5))
    finally:
        RE.unsubscribe(token)
        stop_recording(recorder)
    assert result.exit_status == "success"
    assert states == ["ON"] * 5  # every point was read after the move ended
    assert motor(position).stop_address.endswith("->Stop" + ("#dbase=no" if "#dbase=no" in position else ""))
    with h5py.File(recorder.files[0], "r") as f:
        data = f["entry/data"]
        assert [round(x, 9) for x in data[data.attrs["axes"]][()]] == [1.0, 1.5, 2.0, 2.5, 3.0]
        assert list(data[data.attrs["signal"]][()]) == [4.25] * 5
        assert f[f"entry/instrument/{data.attrs['axes']}"].attrs["NX_class"] == "NXpositioner"
        assert f[f"entry/instrument/{data.attrs['axes']}/value"].attrs["units"] == "mm"
        longs = [k for k in f["entry/instrument"] if k.endswith("long_scalar")]
        assert len(longs) == 1 and f[f"entry/instrument/{longs[0]}/data"][()].tolist() == [7] * 5
        assert f["entry/exit_status"][()] == b"success"


def test_ctrl_c_during_a_tango_move_stops_the_motor(tango_server, tmp_path):
    dev, mot = device(tango_server, "dev"), device(tango_server, "motor")
    position, state = tango_server.address(mot, "position"), tango_server.address(mot, "State")
    ctlshell.put(tango_server.address(mot, "velocity"), 20.0, wait=True)
    ctlshell.put(position, 0.0, wait=True)
    _settled(position, 0.5)
    ctlshell.put(tango_server.address(mot, "velocity"), 2.0, wait=True)  # 2 mm steps take 1 s each
    recorder = record_runs(data_dir=str(tmp_path))
    try:
        timer = _interrupt_after(1.5)
        with pytest.raises(RunEngineInterrupted):
            RE(scan([tango_server.address(dev, "double_scalar")], position, 0.0, 8.0, 5))
        interrupted = time.monotonic()
        timer.join()
        stopped_at, where = _settled(position)
        assert stopped_at - interrupted < 0.5, stopped_at - interrupted
        assert 0.0 < where < 8.0 and ctlshell.get(state).value == "ON"
        RE.abort("stopped by hand")
    finally:
        stop_recording(recorder)
    with h5py.File(recorder.files[0], "r") as f:
        assert f["entry/exit_status"][()] == b"abort"
        assert 1 <= len(f["entry/data"][f["entry/data"].attrs["signal"]]) < 5
