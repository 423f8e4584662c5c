"""The pure parts of ctlshell.widgets: control kinds from metadata, the ring buffer,
value text, and the frame clock's cap."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from ctlshell.core import Metadata, ValidationError
from ctlshell.widgets import Ring, control_kind
from ctlshell.widgets._format import value_text
from ctlshell.widgets._ticker import Ticker


def test_control_kind_follows_the_metadata():
    assert control_kind("x", Metadata(control_limits=(0, 10), precision=3)).kind == "slider"
    assert control_kind("x", Metadata(control_limits=(0, 10), precision=3)).step == pytest.approx(0.001)
    k = control_kind("x", Metadata(dtype="long", display_limits=(-5, 5)))
    assert (k.kind, k.integer, k.limits) == ("slider", True, (-5, 5))
    assert control_kind("x", Metadata(dtype="enum", choices=("A", "B"))).choices == ("A", "B")
    assert control_kind("x", Metadata(dtype="string")).kind == "text"
    assert control_kind("x", Metadata()).kind == "number"
    with pytest.raises(ValidationError, match="read-only"):
        control_kind("x", Metadata(access="r"))
    with pytest.raises(ValidationError, match="array"):
        control_kind("x", Metadata(count=100))


def test_ring_keeps_the_newest_points_oldest_first():
    ring = Ring(4)
    nbytes = ring.nbytes
    for i in range(10):
        ring.append(i, 10 * i)
    x, y = ring.arrays()
    assert list(x) == [6, 7, 8, 9] and list(y) == [60, 70, 80, 90] and len(ring) == 4 and ring.count == 10
    assert ring.nbytes == nbytes
    with pytest.raises(ValueError):
        Ring(1)


def test_value_text():
    assert value_text(1.23456, Metadata(units="mm", precision=2)) == "1.23 mm"
    assert value_text(1, Metadata(dtype="enum", choices=("Open", "Closed"))) == "Closed"
    assert value_text(np.zeros(5), Metadata(count=5, units="V", precision=1)) == "[0.0, 0.0, 0.0, 0.0, 0.0] V"
    assert value_text(None, None) == "—"


def test_ticker_runs_each_job_at_most_at_its_rate():
    ticks = []
    t = Ticker("ctlshell-widgets-test")
    handle = t.add(lambda: ticks.append(time.monotonic()), fps=20)
    started = time.monotonic()
    time.sleep(1.0)
    t.remove(handle)
    elapsed = time.monotonic() - started
    n = len(ticks)
    time.sleep(0.2)
    # at most its rate (an upper bound, which load cannot break), and it does run
    assert 2 <= n <= 20 * elapsed + 2 and len(ticks) == n, (n, elapsed)
    gaps = sorted(b - a for a, b in zip(ticks, ticks[1:]))
    assert gaps[len(gaps) // 2] >= 0.8 / 20, f"ticks faster than 20/s: {gaps}"
    with pytest.raises(ValueError):
        t.add(lambda: None, fps=0)


_FRAME_AT_EXIT = """
import sys, threading, time
from ctlshell.widgets._ticker import ticker
started = threading.Event()
def frame():
    started.set()
    time.sleep(0.5)  # a frame being drawn (matplotlib's C++ font code, in real life)
    open(sys.argv[1], "w").write("finished")
ticker().add(frame, fps=1)
started.wait(10)
"""


def test_a_frame_being_drawn_at_exit_finishes_before_python_finalises(tmp_path):
    """A daemon thread still inside C++ when Python finalises is unwound by force and
    the process aborts ("terminate called without an active exception", exit 134):
    the ticker is stopped at exit, after the frame it is drawing."""
    done = tmp_path / "frame"
    proc = subprocess.run([sys.executable, "-c", _FRAME_AT_EXIT, str(done)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert done.read_text() == "finished"


def test_a_stopped_ticker_runs_no_job():
    ran = []
    t = Ticker("ctlshell-widgets-test-stop")
    t.add(lambda: ran.append(1), fps=50)
    time.sleep(0.2)
    t.stop()
    n = len(ran)
    t.add(lambda: ran.append(2), fps=50)
    time.sleep(0.2)
    assert n >= 1 and len(ran) == n and 2 not in ran


def test_decimate_keeps_extremes_and_order():
    from ctlshell.widgets._plots import decimate

    x = np.arange(10_000, dtype=float)
    y = np.sin(x / 100)
    y[5000] = 7.0
    xs, ys = decimate(x, y, 2000)
    assert len(xs) <= 2000 and np.all(np.diff(xs) >= 0) and ys.max() == 7.0 and ys.min() == pytest.approx(-1, abs=1e-3)
    assert decimate(x[:10], y[:10], 2000)[0] is not None and len(decimate(x[:10], y[:10], 2000)[0]) == 10


def test_held_to_now_extends_the_last_value_and_the_one_before_the_window():
    from ctlshell.widgets._plots import held_to_now

    now = 1000.0
    t, y = np.array([900.0, 995.0]), np.array([1.0, 2.0])  # 2.0 arrived 5 s ago, 1.0 before the window
    x, v = held_to_now(t, y, now, window=10)
    assert list(x) == [-10.0, -5.0, 0.0] and list(v) == [1.0, 2.0, 2.0]
    x, v = held_to_now(np.array([995.0, 996.0]), np.array([2.0, np.nan]), now, window=10)
    assert list(x) == [-5.0, -4.0]  # a lost channel (NaN) is not held to now
    x, v = held_to_now(np.array([]), np.array([]), now, window=10)
    assert len(x) == 0


def test_pair_by_time_uses_the_motor_position_at_the_detector_timestamp():
    from ctlshell.widgets._plots import pair_by_time

    # motor at 1 mm/s; readings delivered out of order (as arrival pairing would see them)
    t_motor, x_motor = np.array([2.0, 0.0, 1.0, 3.0]), np.array([2.0, 0.0, 1.0, 3.0])
    x = pair_by_time(np.array([0.5, 2.25, 5.0, -1.0]), t_motor, x_motor)
    assert list(x) == [0.5, 2.25, 3.0, 0.0]  # interpolated; held after the last and before the first
    assert np.isnan(pair_by_time(np.array([1.0]), np.array([np.nan]), np.array([np.nan]))).all()


def test_axis_keys_one_per_unit_and_one_per_pv_without_units():
    from ctlshell.widgets._plots import axis_keys

    meta = {"ca://A": Metadata(units="mm"), "ca://B": Metadata(units="counts"), "ca://C": Metadata(units="mm"),
            "ca://D": Metadata(), "ca://E": Metadata()}
    keys = axis_keys(list(meta), meta)
    assert keys["ca://A"] == keys["ca://C"] != keys["ca://B"]
    assert keys["ca://D"] != keys["ca://E"] and len(set(keys.values())) == 4
