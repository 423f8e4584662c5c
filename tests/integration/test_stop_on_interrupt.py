"""Issue 14, acceptance 1: Ctrl-C (a KeyboardInterrupt) during ``put(..., wait=True)``
stops the motion it started -- the demo motor hosted here, the example motor served by
``ctlshell serve`` in another process, Tango's CtlMotor -- and says what it did; where
no stop is known it says so; ``stop(address)`` stops explicitly."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

import ctlshell
from ctlshell import api
from ctlshell.core import MotionInterrupted, NotFoundError
from ctlshell.demo import DemoBeamline


READY = "ctlshell serve: ready"


def _interrupt_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def _settled(read, seconds: float = 2.0) -> tuple[float, float]:
    """(when ``read()`` last changed, its value), watching for ``seconds``."""
    last, since = read(), time.monotonic()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = read()
        if value != last:
            last, since = value, time.monotonic()
        time.sleep(0.01)
    return since, last


def _interrupted_move(setpoint: str, target: float, read, after: float = 1.0) -> tuple[str, float, float]:
    timer = _interrupt_after(after)
    with pytest.raises(MotionInterrupted) as caught:
        ctlshell.put(setpoint, target, wait=True, timeout=30)
    interrupted = time.monotonic()
    timer.join()
    stopped_at, position = _settled(read)
    return str(caught.value), stopped_at - interrupted, position


def test_the_demo_motor_stops_when_a_put_wait_is_interrupted(prefix):
    demo = ctlshell.host(DemoBeamline(prefix))
    try:
        said, delay, position = _interrupted_move(f"{prefix}MOTOR", -9, lambda: ctlshell.get(f"{prefix}MOTOR.RBV").value)
        assert "interrupted and stopped" in said and f"{prefix}MOTOR.STOP" in said
        assert delay < 0.5 and -9 < position < -0.5
        assert ctlshell.get(f"{prefix}MOTOR.MOVN").value == 0
        ctlshell.put(f"{prefix}MOTOR", 1.0)  # without wait: stop() explicitly
        time.sleep(0.3)
        assert "STOP" in str(api.stop(f"{prefix}MOTOR"))
        assert _settled(lambda: ctlshell.get(f"{prefix}MOTOR.RBV").value, 1.0)[1] < 1.0
    finally:
        ctlshell.unhost(demo)


def test_the_example_motor_of_ctlshell_serve_stops(ioc, prefix):
    ioc("-m", "ctlshell.cli", "serve", "ctlshell.examples.motor:Motor", "--prefix", prefix, ready_text=READY)
    said, delay, position = _interrupted_move(f"{prefix}VAL", 8, lambda: ctlshell.get(f"{prefix}RBV").value)
    assert f"{prefix}STOP <- 1" in said
    assert delay < 0.5 and 0.5 < position < 8
    assert ctlshell.get(f"{prefix}MOVN").value == 0


def test_the_tango_motor_stops(tango_server):
    ctlshell.put(tango_server.address(f"test/ctl{tango_server.uid}/motor", "velocity"), 2.0)
    position = tango_server.address(f"test/ctl{tango_server.uid}/motor", "position")
    start = ctlshell.get(position).value
    said, delay, where = _interrupted_move(position, start + 8, lambda: ctlshell.get(position).value)
    assert "->Stop()" in said, said
    assert delay < 0.5 and start < where < start + 8
    assert ctlshell.get(tango_server.address(f"test/ctl{tango_server.uid}/motor", "State")).value == "ON"


def test_no_known_stop_is_said_plainly(hosted, prefix):
    hosted("PLAIN", 1.0, writable=True)
    with pytest.raises(NotFoundError, match="no stop is known"):
        api.stop(f"{prefix}PLAIN")
    calls = []
    api.set_stop(f"{prefix}PLAIN", lambda: calls.append(1))
    try:
        api.stop(f"{prefix}PLAIN")
        assert calls == [1]
    finally:
        api.set_stop(f"{prefix}PLAIN", None)
