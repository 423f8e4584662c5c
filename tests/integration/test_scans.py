"""Issue 20 (first part): scans on bluesky over ctlshell addresses, on the demo
beamline hosted here: a 26-point scan with its live table, peak statistics, the
magics, Ctrl-C stopping the motor, resume and abort, bad input refused before
anything moves."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from bluesky.utils import RunEngineInterrupted
from IPython.utils.capture import capture_output

import ctlshell
from ctlshell import ValidationError
from ctlshell.demo import DemoBeamline
from ctlshell.scans import RE, count, motor, peaks, scan


@pytest.fixture
def demo(prefix):
    beamline = ctlshell.host(DemoBeamline(prefix))
    ctlshell.put(f"{prefix}SHUTTER", 0, wait=True)  # Open
    ctlshell.put(f"{prefix}MOTOR.VELO", 10.0, wait=True)
    yield beamline
    ctlshell.unhost(beamline)


def test_a_scan_prints_a_table_and_finds_the_peak(demo, prefix, capsys):
    det, mot = f"{prefix}DET:COUNTS", f"{prefix}MOTOR"
    result = RE(scan([det], mot, 0, 5, 26))
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("|") and line.split("|")[1].strip().isdigit()]
    assert len(rows) == 26 and len(result.run_start_uids) == 1 and result.exit_status == "success"
    assert abs(peaks.cen[det] - 2.5) < 0.1, peaks
    assert abs(ctlshell.get(f"{mot}.RBV").value - 5.0) < 1e-6


def test_magics_scan_move_to_the_peak_and_where_all(demo, prefix, ip):
    det, mot = f"{prefix}DET:COUNTS", f"{prefix}MOTOR"
    ip.user_ns["peaks"] = peaks
    with capture_output() as cap:
        ip.run_line_magic("scan", f"{det} {mot} 0 5 26")
    assert abs(peaks.cen[det] - 2.5) < 0.1, cap.stdout
    with capture_output() as cap:
        ip.run_line_magic("mov", f'{mot} peaks.cen["{det}"]')
    assert abs(ctlshell.get(f"{mot}.RBV").value - peaks.cen[det]) < 1e-6, cap.stdout
    with capture_output() as cap:
        ip.run_line_magic("wa", "")
    assert mot in cap.stdout
    with capture_output() as cap:
        ip.run_line_magic("movr", f"{mot} -0.5")
    assert abs(ctlshell.get(f"{mot}.RBV").value - (peaks.cen[det] - 0.5)) < 1e-6


def test_a_value_token_is_never_evaluated(ip, demo, prefix):
    ip.user_ns["hits"] = []
    result = ip.run_cell(f'%mov {prefix}MOTOR hits.append(1)')
    assert result.error_in_exec is not None and ip.user_ns["hits"] == []
    assert ctlshell.get(f"{prefix}MOTOR.RBV").value == 0.0


def _interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def _settled(address: str, seconds: float = 3.0) -> tuple[float, float]:
    """(time the readback stopped changing, its value), watching for ``seconds``."""
    last, since = ctlshell.get(address).value, time.monotonic()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = ctlshell.get(address).value
        if value != last:
            last, since = value, time.monotonic()
        time.sleep(0.01)
    return since, last


def test_ctrl_c_stops_the_motor_then_resume_completes_the_scan(demo, prefix):
    det, mot = f"{prefix}DET:COUNTS", f"{prefix}MOTOR"
    ctlshell.put(f"{mot}.VELO", 2.0, wait=True)  # 2 mm steps take 1 s each
    seen = []
    token = RE.subscribe(lambda name, doc: seen.append(name))
    try:
        timer = _interrupt_after(1.5)
        with pytest.raises(RunEngineInterrupted):
            RE(scan([det], mot, 0, 8, 5))
        interrupted = time.monotonic()
        timer.join()
        stopped_at, position = _settled(f"{mot}.RBV")
        assert stopped_at - interrupted < 0.5, stopped_at - interrupted
        assert ctlshell.get(f"{mot}.MOVN").value == 0
        assert 0 < position < 8
        RE.resume()
    finally:
        RE.unsubscribe(token)
    assert seen.count("event") == 5 and seen[-1] == "stop"
    assert abs(ctlshell.get(f"{mot}.RBV").value - 8.0) < 1e-6


def test_abort_after_ctrl_c_ends_the_run_as_aborted(demo, prefix):
    det, mot = f"{prefix}DET:COUNTS", f"{prefix}MOTOR"
    ctlshell.put(f"{mot}.VELO", 2.0, wait=True)
    stops = []
    token = RE.subscribe(lambda name, doc: stops.append(doc) if name == "stop" else None)
    try:
        timer = _interrupt_after(1.0)
        with pytest.raises(RunEngineInterrupted):
            RE(scan([det], mot, 0, 8, 5))
        timer.join()
        RE.abort("the beam went away")
    finally:
        RE.unsubscribe(token)
    assert stops and stops[-1]["exit_status"] == "abort"
    assert ctlshell.get(f"{mot}.MOVN").value == 0


def test_bad_plans_fail_before_anything_moves(demo, prefix):
    det, mot = f"{prefix}DET:COUNTS", f"{prefix}MOTOR"
    before = ctlshell.get(f"{mot}.RBV").value
    with pytest.raises(ValidationError, match="outside its limits"):
        RE(scan([det], mot, 0, 50, 5))  # limits -10..10 mm
    with pytest.raises(ValidationError, match="read-only"):
        RE(scan([det], f"{prefix}DET:COUNTS", 0, 1, 3))
    with pytest.raises(ctlshell.ChannelTimeoutError):
        RE(count([f"{prefix}NO:SUCH:PV"]))
    assert ctlshell.get(f"{mot}.RBV").value == before
    assert motor(mot).name == mot


def test_every_run_is_recorded_to_nexus_and_an_abort_is_recorded(demo, prefix, tmp_path):
    import h5py

    from ctlshell.scans import peak_stats, record_runs, stop_recording

    det, mot = f"{prefix}DET:COUNTS", f"{prefix}MOTOR"
    recorder = record_runs(data_dir=str(tmp_path))
    try:
        RE(scan([det], mot, 0, 5, 26))
        ctlshell.put(f"{mot}.VELO", 2.0, wait=True)
        ctlshell.put(mot, 0.0, wait=True)  # so that the interrupt falls between two points
        timer = _interrupt_after(1.5)
        with pytest.raises(RunEngineInterrupted):
            RE(scan([det], mot, 0, 8, 5))
        timer.join()
        RE.abort()
    finally:
        stop_recording(recorder)
    assert len(recorder.files) == 2
    with h5py.File(recorder.files[0], "r") as f:
        data = f["entry/data"]
        assert data.attrs["NX_class"] == "NXdata" and data.attrs["signal"] == "DET_COUNTS".join(
            [prefix.replace(":", "_").strip("_") + "_", ""])
        counts, x = data[data.attrs["signal"]][()], data[data.attrs["axes"]][()]
        assert len(counts) == 26 and abs(peak_stats(x, counts).cen - 2.5) < 0.1
        assert f["entry/exit_status"][()] == b"success"
        assert f["entry/instrument"][data.attrs["axes"]].attrs["NX_class"] == "NXpositioner"
        assert f[f"entry/instrument/{data.attrs['axes']}/value"].attrs["units"] == "mm"
    with h5py.File(recorder.files[1], "r") as f:
        assert f["entry/exit_status"][()] == b"abort"
        assert 1 <= len(f["entry/data"][f["entry/data"].attrs["signal"]]) < 5  # what was taken is kept


def test_a_scan_over_an_ioc_motor_record(ioc, prefix):
    from .conftest import caproto_example

    ioc(*caproto_example("fake_motor_record", prefix))
    mot = f"{prefix}mtr3"
    result = RE(scan([f"{prefix}mtr2.RBV"], mot, 1.0, 2.0, 3))
    assert result.exit_status == "success"
    assert abs(ctlshell.get(f"ca://{mot}.RBV").value - 2.0) < 0.05


def test_a_closed_shutter_suspends_the_scan_and_no_point_is_taken_meanwhile(demo, prefix, tmp_path):
    import h5py

    from ctlshell.scans import record_runs, stop_recording, suspend_while

    det, mot, shutter = f"{prefix}DET:COUNTS", f"{prefix}MOTOR", f"{prefix}SHUTTER"
    ctlshell.put(f"{mot}.VELO", 10.0, wait=True)
    suspender = suspend_while(shutter, "Closed", sleep=1.0, message="no beam on the sample")
    RE.install_suspender(suspender)
    events: list[dict] = []
    token = RE.subscribe(lambda name, doc: events.append(doc) if name == "event" else None)
    times: dict[str, float] = {}

    def close_then_open():
        while len(events) < 5:
            time.sleep(0.01)
        ctlshell.put(shutter, "Closed", wait=True)
        times["closed"] = time.time()
        time.sleep(1.5)
        ctlshell.put(shutter, "Open", wait=True)
        times["opened"] = time.time()

    recorder = record_runs(data_dir=str(tmp_path))
    actor = threading.Thread(target=close_then_open)
    actor.start()
    try:
        started = time.monotonic()
        result = RE(scan([det], mot, 0, 5, 26, per_step=None))
        elapsed = time.monotonic() - started
    finally:
        actor.join()
        RE.remove_suspender(suspender)
        RE.unsubscribe(token)
        stop_recording(recorder)
    assert result.exit_status == "success" and len(events) == 26
    assert elapsed > 1.5 + 1.0  # it waited for the shutter and then the settling time
    stamps = [e["timestamps"][det] for e in events]
    assert not [t for t in stamps if times["closed"] <= t <= times["opened"] + 1.0], (times, stamps)
    with h5py.File(recorder.files[0], "r") as f:
        assert len(f["entry/data"][f["entry/data"].attrs["signal"]]) == 26


def test_a_scan_over_pva_channels_recorded_to_nexus(prefix, tmp_path):
    import h5py

    from ctlshell.scans import record_runs, stop_recording

    from ._pva import P4pServer, next_pool_port

    server = P4pServer(prefix, next_pool_port()).start()
    recorder = record_runs(data_dir=str(tmp_path))
    try:
        result = RE(scan([f"pva://{prefix}WAVE", f"pva://{prefix}MODE"], f"pva://{prefix}TEMP", 1.0, 3.0, 5))
        label = ctlshell.info(f"pva://{prefix}MODE").choices[ctlshell.get(f"pva://{prefix}MODE").value]
    finally:
        stop_recording(recorder)
        server.close()
    assert result.exit_status == "success"
    with h5py.File(recorder.files[0], "r") as f:
        data = f["entry/data"]
        assert list(data[data.attrs["axes"]][()]) == [1.0, 1.5, 2.0, 2.5, 3.0]
        assert f[f"entry/instrument/{prefix.strip(':')}_WAVE/data"].shape == (5, 5)  # 5 points of 5 doubles
        assert f[f"entry/instrument/{prefix.strip(':')}_MODE/data"][()].tolist() == [label.encode()] * 5  # by label


def test_the_ctrl_c_handler_is_given_back_after_a_run(demo, prefix):
    before = signal.getsignal(signal.SIGINT)
    RE(count([f"{prefix}DET:COUNTS"]))
    assert signal.getsignal(signal.SIGINT) is before  # Ctrl-C is a KeyboardInterrupt again


def test_a_writer_that_fails_mid_run_ends_the_run_and_keeps_what_it_recorded(demo, prefix, tmp_path):
    import h5py

    from ctlshell.scans import record_runs, stop_recording
    from ctlshell.scans._recorder import RecordingError

    det, mot = f"{prefix}DET:COUNTS", f"{prefix}MOTOR"
    ctlshell.put(f"{mot}.VELO", 2.0, wait=True)  # 0.2 mm steps take 0.1 s: 26 points take > 2.5 s
    recorder = record_runs(data_dir=str(tmp_path))
    events: list[dict] = []
    token = RE.subscribe(lambda name, doc: events.append(doc) if name == "event" else None)

    def stop_the_writer() -> None:
        while len(events) < 6:
            time.sleep(0.005)
        recorder._process.stop()  # the writer process this recorder started, by its PID

    actor = threading.Thread(target=stop_the_writer)
    actor.start()
    try:
        with pytest.raises(RecordingError, match="recording the run to NeXus failed"):
            RE(scan([det], mot, 0, 5, 26))
    finally:
        actor.join()
        RE.unsubscribe(token)
        recorder._process = None  # already stopped
        stop_recording(recorder)
    assert 6 <= len(events) < 26  # the run ended on the failure, not at its end
    with h5py.File(recorder.files[0], "r") as f:
        assert 3 <= len(f["entry/data"][f["entry/data"].attrs["signal"]]) <= len(events)
