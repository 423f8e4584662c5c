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
    first = ctlshell.host(Chiller(prefix=prefix))
    with pytest.raises(ValidationError, match="already hosted"):
        ctlshell.host(first)  # the very same object twice
    group = ctlshell.host(Chiller(prefix=prefix))  # made again (a cell run again): replaces the first
    ticks = first.TICKS.value
    time.sleep(0.3)
    assert first.TICKS.value == ticks  # the first one's scan stopped...
    assert prefix + "TICKS" in ctlshell.hosted()  # ...and its names are served by the second
    ctlshell.unhost(group)
    ticks = group.TICKS.value
    time.sleep(0.3)
    assert group.TICKS.value == ticks  # the scan stopped
    assert prefix + "TICKS" not in ctlshell.hosted()
    assert prefix + "TICKS" not in ctlshell.hosted()
    again = ctlshell.host(Chiller(prefix=prefix))
    assert ctlshell.get(f"ca://{prefix}FLOW").value == 1.0
    ctlshell.unhost(again)


def test_a_group_is_served_on_pva_too_through_the_same_hooks(chiller, prefix):
    """p4p in another process sees the group's PVs with their metadata and alarms; its
    puts go through the group's putter, SkipWrite and read-only rules like CA puts; a
    p4p monitor follows the scan."""
    from ctlshell.api import session

    from ._pva import p4p

    names = [prefix + n for n in ("FLOW", "TEMP", "PRESSURE")]
    assert set(names) <= set(session().pva_server().names())
    got = p4p("describe", *names)
    flow, temp, pressure = (got[n] for n in names)
    assert flow["value"] == 1.0 and flow["display"]["units"] == "l/min" and flow["display"]["precision"] == 2
    assert (flow["control"]["limitLow"], flow["control"]["limitHigh"]) == (0.0, 100.0)
    assert temp["display"]["units"] == "degC"
    assert pressure["alarm"]["severity"] == MAJOR  # its scan raises

    written = p4p("put", prefix + "FLOW", "3.0")
    assert written["ok"] and written["readback"] == 6.0  # the putter doubles
    assert ctlshell.get(f"ca://{prefix}FLOW").value == 6.0  # one PV: seen over CA too
    refused = p4p("put", prefix + "TEMP", "50.0")
    assert not refused["ok"] and "read-only" in refused["error"]
    p4p("put", prefix + "SPARE", "0")  # SkipWrite: nothing changes
    assert ctlshell.get(f"ca://{prefix}SPARE").value == 5

    temps = []
    with ctlshell.monitor(f"pva://{prefix}TICKS", lambda r: temps.append(r.value), policy=ctlshell.KeepLast(100)):
        time.sleep(0.6)
    assert len(temps) >= 3 and temps == sorted(temps)  # the 10 Hz scan, over PVA


def test_the_write_rule_applies_to_group_pvs_on_both_protocols(chiller, prefix):
    from ._pva import p4p

    ctlshell.restrict_writes(users="nobody-here")
    try:
        ca = pyepics("put", prefix + "FLOW", "4.0", "wait")
        pva = p4p("put", prefix + "FLOW", "4.0")
        assert not ca["ok"] and not pva["ok"] and "nobody-here" in pva["error"]
        assert ctlshell.get(f"ca://{prefix}FLOW").value == 1.0
    finally:
        ctlshell.restrict_writes()
    assert pyepics("put", prefix + "FLOW", "4.0", "wait")["readback"] == 8.0


def test_unhosted_group_leaves_pva(prefix):
    from ctlshell.api import session

    group = ctlshell.host(Chiller(prefix=prefix))
    assert prefix + "FLOW" in session().pva_server().names()
    ctlshell.unhost(group)
    assert not [n for n in session().pva_server().names() if n.startswith(prefix)]
    with pytest.raises(ctlshell.ChannelTimeoutError):
        ctlshell.get(f"pva://{prefix}FLOW", timeout=0.5)
