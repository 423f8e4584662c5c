"""Acceptance 6 of hosted devices: the demo beamline, driven by pyepics in another
process: the readback moves at the set velocity and the detector follows the peak."""

from __future__ import annotations

import statistics
import time

import pytest

import ctlshell
from ctlshell.demo import DemoBeamline

from .conftest import Background, pyepics


@pytest.fixture
def demo(prefix):
    beamline = ctlshell.host(DemoBeamline(prefix))
    yield beamline
    ctlshell.unhost(beamline)


def mean_counts(name: str, seconds: float = 0.6) -> float:
    seen = []
    sub = ctlshell.monitor(f"ca://{name}", seen.append, policy=500)
    time.sleep(seconds)
    sub.close()
    return statistics.mean(r.value for r in seen[1:])


def test_readback_moves_at_the_set_velocity_and_counts_follow_the_peak(demo, prefix):
    assert pyepics("putcb", prefix + "SHUTTER", '"Open"')["ok"]
    assert pyepics("putcb", prefix + "MOTOR.VELO", "4.0")["ok"]
    off_peak = mean_counts(prefix + "DET:COUNTS")
    watcher = Background("monitor", prefix + "MOTOR.RBV", "2.5")
    watcher.wait_ready()
    move = pyepics("putcb", prefix + "MOTOR", "2.5")  # 2.5 mm at 4 mm/s: 0.625 s
    # never faster than the velocity allows; under load a little slower
    assert move["ok"] and 0.5 < move["elapsed"] < 5.0, move
    samples = [(u["timestamp"], u["value"]) for u in watcher.result() if 0.2 < u["value"] < 2.3]
    (t0, x0), (t1, x1) = samples[0], samples[-1]
    assert (x1 - x0) / (t1 - t0) == pytest.approx(4.0, rel=0.15)
    on_peak = mean_counts(prefix + "DET:COUNTS")
    assert on_peak > 10 * off_peak and on_peak == pytest.approx(1020, rel=0.1)
    assert pyepics("putcb", prefix + "SHUTTER", '"Closed"')["ok"]
    time.sleep(0.1)
    assert mean_counts(prefix + "DET:COUNTS") < 10


def test_limits_stop_and_spectrum(demo, prefix):
    assert not pyepics("putcb", prefix + "MOTOR", "12")["ok"]  # beyond the soft limits
    got = pyepics("describe", prefix + "SPECTRUM", prefix + "RING:CURRENT", prefix + "MOTOR")
    assert got[prefix + "SPECTRUM"]["count"] == 1000
    assert got[prefix + "RING:CURRENT"]["units"] == "mA"
    assert (got[prefix + "MOTOR"]["lower_ctrl_limit"], got[prefix + "MOTOR"]["upper_ctrl_limit"]) == (-10, 10)
    updates = []
    sub = ctlshell.monitor(f"ca://{prefix}SPECTRUM", updates.append, policy=100)
    time.sleep(1.05)
    sub.close()
    assert 2 <= len(updates) - 1 <= 13  # 10 Hz at most (load only delays updates)
