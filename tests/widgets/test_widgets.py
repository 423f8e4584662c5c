"""Acceptance 3 and the widgets in-process: real hosted PVs, real subscriptions,
ipywidgets driven through the same message handler a browser's updates reach;
writes counted at the server, values read back by pyepics in another process."""

from __future__ import annotations

import time

import pytest

import ctlshell
from ctlshell import widgets
from ctlshell.core import ChannelTimeoutError, ValidationError

from ..waiting import wait_for
from .conftest import pyepics


def person_moves(widget, value) -> None:
    """What ipywidgets does with a browser's ``update`` message for ``widget`` (a
    dropdown's browser side sends the chosen index)."""
    key = "index" if hasattr(widget, "index") else "value"
    widget._handle_msg({"content": {"data": {"method": "update", "state": {key: value}}}, "buffers": []})


@pytest.fixture
def temp(prefix):
    pv = ctlshell.host(f"{prefix}TEMP", 20.0, units="degC", precision=1, limits=(0, 100),
                       alarm_limits=(2, 90), warning_limits=(5, 80), writable=True)
    writes = []
    pv.on_write(lambda r: writes.append(r.value))
    yield pv, writes
    pv.remove()


def test_readout_shows_value_units_severity_time_and_state(temp):
    pv, _ = temp
    with widgets.Readout(pv.address) as ro:
        wait_for(lambda: "20.0 degC" in ro.widget.value, 5)
        assert 'data-state="connected"' in ro.widget.value and 'data-severity="NO_ALARM"' in ro.widget.value
        pv.value = 95.0
        wait_for(lambda: "95.0 degC" in ro.widget.value, 5)
        assert 'data-severity="MAJOR"' in ro.widget.value and "HIHI" in ro.widget.value
        assert "#cf222e" in ro.widget.value  # MAJOR is red
        pv.remove()
        wait_for(lambda: 'data-state="disconnected"' in ro.widget.value, 10)


def test_control_writes_once_per_move_and_never_echoes_monitor_updates(temp, prefix):
    pv, writes = temp
    with widgets.Control(pv.address) as c:
        assert c.kind.kind == "slider" and (c.input.min, c.input.max) == (0, 100)
        assert c.input.continuous_update is False  # a drag sends on release: one write per move
        wait_for(lambda: c.input.value == 20.0, 5)
        for v in (30.0, 40.0, 50.0, 60.0):  # updates from the PV
            pv.value = v
            wait_for(lambda v=v: c.input.value == v, 5)
        time.sleep(0.3)
        assert writes == [] and c.writes == 0  # not one of them came back as a write
        person_moves(c.input, 42.5)
        wait_for(lambda: len(writes) == 1, 5)
        assert writes == [42.5] and c.writes == 1
        assert pyepics("describe", f"{prefix}TEMP")[f"{prefix}TEMP"]["value"] == 42.5
        time.sleep(0.5)  # the monitor update of our own write arrives and is applied
        assert c.input.value == 42.5 and writes == [42.5]
        person_moves(c.input, 7.0)
        wait_for(lambda: len(writes) == 2, 5)
        time.sleep(0.3)
        assert writes == [42.5, 7.0]


def test_number_box_without_limits_writes_an_integer(prefix):
    pv = ctlshell.host(f"{prefix}N", 3, writable=True)  # no limits: a number box
    writes = []
    pv.on_write(lambda r: writes.append(r.value))
    try:
        with widgets.Control(pv.address) as c:
            assert c.kind.kind == "number" and c.kind.integer
            wait_for(lambda: c.input.value == 3, 5)
            person_moves(c.input, 8)
            wait_for(lambda: writes == [8], 5)
            assert ctlshell.get(pv.address).value == 8
    finally:
        pv.remove()


def test_control_kind_from_metadata_dropdown_and_text(prefix):
    mode = ctlshell.host(f"{prefix}MODE", "Slow", enum=["Slow", "Fast"], writable=True)
    note = ctlshell.host(f"{prefix}NOTE", "hello", writable=True)
    writes = []
    mode.on_write(lambda r: writes.append(r.value))
    try:
        with widgets.Control(mode.address) as dd, widgets.Control(note.address) as tx:
            assert dd.kind.kind == "dropdown" and list(dd.input.options) == [("Slow", 0), ("Fast", 1)]
            assert tx.kind.kind == "text"
            wait_for(lambda: tx.input.value == "hello", 5)
            person_moves(dd.input, 1)
            wait_for(lambda: writes, 5)
            assert ctlshell.get(mode.address).value == 1
            person_moves(tx.input, "bye")
            wait_for(lambda: ctlshell.get(note.address).value == "bye", 5)
    finally:
        mode.remove()
        note.remove()


def test_bad_input_is_refused_and_subscribes_nothing(prefix):
    ro = ctlshell.host(f"{prefix}RO", 1.0)  # read-only for clients
    try:
        before = len(ctlshell.status())
        with pytest.raises(ValidationError, match="read-only"):
            widgets.Control(ro.address)
        with pytest.raises(ChannelTimeoutError):
            widgets.Readout(f"ca://{prefix}NO:SUCH:PV")
        assert not any(s.users for s in ctlshell.status() if s.address.endswith("RO"))
        assert len(ctlshell.status()) <= before + 2
    finally:
        ro.remove()


def test_monitor_table_counts_delivered_and_dropped(temp, prefix):
    pv, _ = temp
    other = ctlshell.host(f"{prefix}OTHER", 1)
    try:
        with widgets.MonitorTable([pv.address, other.address], fps=5) as table:
            for i in range(200):
                pv.value = float(i % 100)
            wait_for(lambda: table.rows()[0]["value"] == "99.0 degC", 5)
            rows = table.rows()
            sub = table.subscriptions[0]
            assert [r["state"] for r in rows] == ["connected", "connected"]
            assert (rows[0]["delivered"], rows[0]["dropped"]) == (sub.delivered, sub.dropped)
            assert sub.delivered + sub.dropped > 1 and table.frames < 20  # coalesced to 5 frames/s
            wait_for(lambda: "99.0 degC" in table.widget.value, 5)  # the next frame shows it
    finally:
        other.remove()
