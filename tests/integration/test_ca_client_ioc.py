"""Acceptance 3 and 4: ctlshell's CA client against a caproto IOC in a subprocess,
including the IOC going away and coming back."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import ctlshell
from ctlshell import Severity

from ..waiting import wait_for
from .conftest import caproto_example


def test_get_put_monitor_against_caproto_ioc(ioc, prefix):
    ioc(*caproto_example("simple", prefix))
    a, b, c = (f"ca://{prefix}{n}" for n in "ABC")

    assert ctlshell.get(a).value == 1
    r = ctlshell.get(b)
    assert r.value == 2.0 and r.severity is Severity.NO_ALARM and abs(r.age) < 60
    assert list(ctlshell.get(c).value) == [1, 2, 3]
    meta = ctlshell.info(b)
    assert meta.dtype == "double" and meta.count == 1 and meta.access == "rw"

    seen = []
    got = threading.Event()

    def on_update(reading):
        seen.append(reading.value)
        if reading.value == 7.5:
            got.set()

    with ctlshell.monitor(b, on_update):
        wait_for(lambda: seen, 5, "the initial monitor update")
        ctlshell.put(b, 7.5, wait=True)
        assert got.wait(5)
    assert seen[0] == 2.0 and seen[-1] == 7.5
    assert ctlshell.get(b).value == 7.5

    ctlshell.put(a, 12, wait=True)
    assert ctlshell.get(a).value == 12
    ctlshell.put(c, np.array([4, 5, 6]), wait=True)
    assert list(ctlshell.get(c).value) == [4, 5, 6]


def test_disconnect_within_5s_and_resume_without_user_action(ioc, prefix):
    proc = ioc(*caproto_example("simple", prefix))
    addr = f"ca://{prefix}B"
    readings = []
    sub = ctlshell.monitor(addr, readings.append, policy=100)
    try:
        wait_for(lambda: readings and readings[-1].connected, 5, "connection")
        proc.stop()
        stopped = time.monotonic()
        seen_at = wait_for(lambda: not readings[-1].connected, 5, "DISCONNECTED")
        assert seen_at - stopped < 5
        assert readings[-1].severity is Severity.DISCONNECTED
        assert any(s.address == addr and str(s.state) == "disconnected" for s in ctlshell.status())

        proc.start()
        wait_for(lambda: readings[-1].connected, 20, "reconnection")
        ctlshell.put(addr, 3.25, wait=True)
        wait_for(lambda: readings[-1].value == 3.25, 5, "an update after the restart")
        assert any(s.address == addr and str(s.state) == "connected" for s in ctlshell.status())
    finally:
        sub.close()


def test_unknown_pv_times_out_with_a_clear_message(prefix):
    with pytest.raises(ctlshell.ChannelTimeoutError, match=r"no answer.*within 0.5 s") as info:
        ctlshell.get(f"ca://{prefix}NOT:THERE", timeout=0.5)
    assert isinstance(info.value, TimeoutError)
