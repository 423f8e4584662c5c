"""Acceptance 3 of hosted devices: a caproto PVGroup hosted unchanged; a startup or
scan hook that raises puts its PV in alarm while the server and every other PV keep
working. Checked with pyepics (libca) in another process."""

from __future__ import annotations

import time

import pytest

import ctlshell
from ctlshell import ValidationError
from ctlshell.examples.group import Chiller

from .conftest import pyepics

MAJOR = 2


@pytest.fixture
def chiller(prefix):
    group = ctlshell.host(Chiller(prefix=prefix))
    time.sleep(0.3)  # a few scans
    yield group
    ctlshell.unhost(group)


def test_raising_hooks_alarm_their_pv_only(chiller, prefix):
    names = [prefix + n for n in ("PUMP", "PRESSURE", "TEMP", "FLOW")]
    got = pyepics("describe", *names)
    pump, pressure, temp, flow = (got[n] for n in names)
    assert pump["severity"] == MAJOR
    assert pressure["severity"] == MAJOR and pressure["status"] == 13  # SCAN
    assert temp["severity"] == 0 and flow["severity"] == 0
    assert (temp["units"], temp["precision"], temp["write_access"]) == ("degC", 2, False)
    # the healthy scan goes on
    ticks = ctlshell.get(f"ca://{prefix}TICKS").value
    time.sleep(0.5)
    assert ctlshell.get(f"ca://{prefix}TICKS").value >= ticks + 3


def test_putter_getter_and_skipwrite_behave_as_under_caproto(chiller, prefix):
    got = pyepics("putcb", prefix + "FLOW", "3.0")
    assert got["ok"] and got["readback"] == 6.0  # the putter doubles
    assert not pyepics("putcb", prefix + "FLOW", "200")["ok"]  # beyond the control limits
    assert ctlshell.get(f"ca://{prefix}FLOW").value == 6.0
    assert pyepics("putcb", prefix + "SPARE", "7")["readback"] == 7
    got = pyepics("putcb", prefix + "SPARE", "0")
    assert got["ok"] and got["readback"] == 7  # SkipWrite: accepted, not stored


def test_unhost_stops_hooks_and_names_can_be_reused(prefix):
    group = ctlshell.host(Chiller(prefix=prefix))
    with pytest.raises(ValidationError, match="already hosted"):
        ctlshell.host(Chiller(prefix=prefix))
    assert prefix + "TICKS" in ctlshell.hosted()
    ctlshell.unhost(group)
    ticks = group.TICKS.value
    time.sleep(0.3)
    assert group.TICKS.value == ticks  # the scan stopped
    assert prefix + "TICKS" not in ctlshell.hosted()
    again = ctlshell.host(Chiller(prefix=prefix))
    assert ctlshell.get(f"ca://{prefix}FLOW").value == 1.0
    ctlshell.unhost(again)
