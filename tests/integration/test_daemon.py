"""Acceptance 1 of hosted devices: an mKTL-style daemon's items written by pyepics
(libca) in another process: validate and req_set run, the PV and monitors follow, a
refused value reaches the client as an error and changes nothing, the journal
lists what was accepted."""

from __future__ import annotations

import time

import pytest

import ctlshell
from ctlshell import Severity, ValidationError
from ctlshell.examples.oven import Oven
from ctlshell.host import Daemon, Item

from .conftest import Background, pyepics


@pytest.fixture
def oven(prefix):
    daemon = ctlshell.host(Oven(prefix))
    yield daemon
    ctlshell.unhost(daemon)


def test_client_write_runs_validate_then_req_set_and_monitors_fire(oven, prefix):
    name = prefix + "SETPOINT"
    watcher = Background("monitor", name, "3")
    watcher.wait_ready()
    got = pyepics("putcb", name, "310.5")
    assert got["ok"], got
    assert got["readback"] == 310.5
    assert oven["SETPOINT"].validated == [310.5]
    assert oven["SETPOINT"].applied == [310.5]
    seen = [u["value"] for u in watcher.result()]
    assert seen[0] == 295.0 and 310.5 in seen
    entries = ctlshell.journal(name)
    assert [(e.old, e.new, e.protocol) for e in entries] == [(295.0, 310.5, "ca")]
    assert entries[0].user and entries[0].host  # CA sends both


def test_value_refused_by_validate_reaches_the_client_and_changes_nothing(oven, prefix):
    name = prefix + "SETPOINT"
    before = ctlshell.get(f"local://{name}")
    got = pyepics("putcb", name, "10")  # 285 K below the oven: validate refuses
    assert not got["ok"]
    assert "put" in got["message"].lower() or "fail" in got["message"].lower(), got
    assert got["readback"] == 295.0
    assert oven["SETPOINT"].validated == [10.0] and oven["SETPOINT"].applied == []
    after = ctlshell.get(f"local://{name}")
    assert (after.value, after.timestamp) == (before.value, before.timestamp)
    assert ctlshell.journal(name) == []


def test_refused_by_limits_and_read_only_items(oven, prefix):
    assert not pyepics("putcb", prefix + "SETPOINT", "900")["ok"]  # catalog limits 4..500
    assert oven["SETPOINT"].validated == []  # refused before validate
    got = pyepics("put", prefix + "TEMP", "100.0")  # settable: false
    assert not got["ok"] and got["readback"] != 100.0
    assert ctlshell.journal(prefix + "SETPOINT") == [] and ctlshell.journal(prefix + "TEMP") == []


def test_python_put_goes_through_the_item_and_errors_are_clear(oven, prefix):
    ctlshell.put(f"local://{prefix}SETPOINT", 300.0)
    assert oven["SETPOINT"].applied == [300.0]
    with pytest.raises(ValidationError, match="more than 200"):
        ctlshell.put(f"local://{prefix}SETPOINT", 4.5)
    assert ctlshell.get(f"local://{prefix}SETPOINT").value == 300.0


def test_polled_item_follows_setpoint(oven, prefix):
    ctlshell.put(f"local://{prefix}SETPOINT", 297.0)
    deadline = time.monotonic() + 5
    while ctlshell.get(f"local://{prefix}TEMP").value != 297.0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ctlshell.get(f"ca://{prefix}TEMP").value == 297.0


class Counter(Item):
    """publish() broadcasts only on change unless repeat; refresh failures alarm."""

    fail = False

    def req_refresh(self):
        if self.fail:
            raise OSError("sensor gone")
        return 7


class Small(Daemon):
    CATALOG = {"N": {"type": "integer", "initial": 0, "settable": False},
               "S": {"type": "string", "initial": "x"}}

    def setup(self):
        self.add_item(Counter, "N")


def test_publish_only_on_change_and_refresh_failure_alarms(prefix):
    daemon = ctlshell.host(Small(prefix))
    try:
        seen = []
        sub = ctlshell.monitor(f"local://{prefix}N", seen.append, policy=100)
        item = daemon["N"]
        time.sleep(0.2)
        assert item.publish(5) is True
        assert item.publish(5) is False
        assert item.publish(5, repeat=True) is True
        item.fail = True
        item.req_poll()
        assert ctlshell.get(f"local://{prefix}N").severity == Severity.MAJOR
        item.fail = False
        item.req_poll()
        reading = ctlshell.get(f"local://{prefix}N")
        assert (reading.value, reading.severity) == (7, Severity.NO_ALARM)
        time.sleep(0.3)
        sub.close()
        values = [r.value for r in seen]
        assert values == [0, 5, 5, 5, 7], values  # initial, change, repeat, alarm (same value), new value
    finally:
        ctlshell.unhost(daemon)
    assert f"{prefix}N" not in ctlshell.hosted()


def test_bad_catalog_and_name_clash_change_nothing(prefix):
    with pytest.raises(ValidationError, match="'T'.*unknown field"):
        Small(prefix, catalog={"T": {"type": "numeric", "unit": "K"}})
    ctlshell.host(prefix + "N", 1)
    try:
        with pytest.raises(ValidationError, match="already hosted"):
            ctlshell.host(Small(prefix))
        assert f"{prefix}S" not in ctlshell.hosted()
    finally:
        ctlshell.unhost(prefix + "N")


def test_items_are_served_on_pva_with_the_same_checks(oven, prefix):
    from ._pva import p4p

    name = prefix + "SETPOINT"
    got = p4p("put", name, "305.0")
    assert got["ok"] and got["readback"] == 305.0, got
    assert oven["SETPOINT"].applied == [305.0]
    refused = p4p("put", name, "10.0")  # validate refuses
    assert not refused["ok"] and "more than 200" in refused["error"], refused
    assert refused["readback"] == 305.0 and oven["SETPOINT"].applied == [305.0]
    assert not p4p("put", prefix + "TEMP", "300.0")["ok"]  # settable: false
    described = p4p("describe", name)[name]
    assert described["display"]["units"] == "K"
    entry, = ctlshell.journal(name)
    assert (entry.protocol, entry.old, entry.new) == ("pva", 295.0, 305.0)
