"""Acceptance 5 of issue 14: one display of a value everywhere.

A table of hosted PVs (double, long, enum, string, array), each read over CA from a
real caproto server, and every place a value is shown: ``str``, ``repr``,
``_repr_html_``, ``%pv get``, monitor lines (``%pv monitor`` and ``print`` as a
callback), snapshot files and their diffs, ``%pv status``. Units and precision
appear, an enum shows its label, times are clock times, never raw epoch floats.
"""

from __future__ import annotations

import datetime
import html
import json
import re
import threading

import numpy as np
import pytest
from IPython.utils.capture import capture_output

import ctlshell

from ..waiting import wait_for

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
EPOCH = re.compile(r"(?<![\d.])1[6-9]\d{8}(\.\d+)?(?![\d])")  # a POSIX time of 2020..2033 as a number
CLOCK = re.compile(r"\d\d:\d\d:\d\d\.\d{3}")

# kind: (suffix, initial value, host options, shown, new value, shown after the change)
TABLE = {
    "double": ("DBL", 2.539257533999944, {"units": "mm", "precision": 3, "writable": True}, "2.539 mm",
               4.0, "4.000 mm"),
    "long": ("LNG", 42, {"units": "counts", "writable": True}, "42 counts", 7, "7 counts"),
    "enum": ("ENM", "Closed", {"enum": ["Open", "Closed"], "writable": True}, "Closed", "Open", "Open"),
    "string": ("STR", "sample A", {"writable": True}, "sample A", "sample B", "sample B"),
    "array": ("ARR", np.arange(10.0), {"units": "V", "precision": 1, "writable": True},
              "[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, ... (10 items)] V", np.arange(10.0) + 1,
              "[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, ... (10 items)] V"),
}
KINDS = list(TABLE)


@pytest.fixture
def pvs(prefix):
    hosted = {}
    for kind, (suffix, value, options, *_) in TABLE.items():
        hosted[kind] = ctlshell.host(f"{prefix}{suffix}", value, **options)
    yield {kind: f"ca://{prefix}{TABLE[kind][0]}" for kind in TABLE}
    for h in hosted.values():
        h.remove()


def shown(ip, obj):
    data, _ = ip.display_formatter.format(obj)
    return ANSI.sub("", data["text/plain"]), data.get("text/html", "")


def run(ip, line):
    with capture_output() as cap:
        result = ip.run_line_magic("pv", line)
    return result, ANSI.sub("", cap.stdout)


def assert_display(text: str, expected: str) -> None:
    assert expected in text, (expected, text)
    assert not EPOCH.search(text), text


@pytest.mark.parametrize("kind", KINDS)
def test_str_repr_html_and_pv_get_show_one_display(ip, pvs, kind):
    address, expected = pvs[kind], TABLE[kind][3]
    reading = ctlshell.get(address)
    for text in (str(reading), repr(reading)):
        assert_display(text, expected)
        assert CLOCK.search(text) and address in text
    assert html.escape(expected) in reading._repr_html_() and not EPOCH.search(reading._repr_html_())
    got, _ = run(ip, f"get {address}")
    text, rich = shown(ip, got)
    assert_display(text, expected)
    assert CLOCK.search(text)
    assert html.escape(expected) in rich
    if kind == "enum":
        assert reading.value == 1  # the index on the wire; its label everywhere it is shown


@pytest.mark.parametrize("kind", KINDS)
def test_monitor_lines_show_one_display(ip, pvs, kind):
    address, expected = pvs[kind], TABLE[kind][3]
    # ``monitor(address, print)`` on a channel never read before: a callback's str(reading),
    # from its very first line
    lines: list[str] = []
    got = threading.Event()
    sub = ctlshell.monitor(address, lambda r: (lines.append(str(r)), got.set()))
    try:
        assert got.wait(10)
    finally:
        sub.close()
    assert_display(lines[0], expected)
    _, out = run(ip, f"monitor {address} --duration 0.7")
    line = next(ln for ln in out.splitlines() if ln.startswith(address))
    assert_display(line, expected)
    assert CLOCK.search(line)


def test_snapshot_file_and_diff_keep_labels_and_formatted_values(ip, pvs, tmp_path):
    snap = tmp_path / "snap.json"
    addresses = " ".join(pvs.values())
    run(ip, f"snapshot save {snap} {addresses}")
    text = snap.read_text()
    doc = json.loads(text)
    assert not EPOCH.search(text)  # ISO times, not POSIX floats
    for address in pvs.values():  # one line per channel in each part: what a person (and `diff`) reads
        assert sum(ln.lstrip().startswith(json.dumps(address) + ":") for ln in text.splitlines()) == 2, address
    datetime.datetime.fromisoformat(doc["saved"])
    assert doc["values"][pvs["enum"]] == "Closed"  # the label, not the index 1
    for kind, address in pvs.items():
        channel = doc["channels"][address]
        assert channel["text"] == TABLE[kind][3]
        assert datetime.datetime.fromisoformat(channel["time"]).tzinfo is not None
    for kind, address in pvs.items():
        ctlshell.put(address, TABLE[kind][4], wait=True)
    changes, _ = run(ip, f"snapshot diff {snap}")
    assert {a for a, _, _ in changes} == set(pvs.values())
    text, rich = shown(ip, changes)
    for kind, address in pvs.items():
        line = next(ln for ln in text.splitlines() if ln.startswith(address + ":"))
        assert_display(line, f"saved {TABLE[kind][3]}, now {TABLE[kind][5]}")
        assert html.escape(TABLE[kind][5]) in rich
    written, _ = run(ip, f"snapshot restore {snap}")
    assert set(written) == set(pvs.values())
    assert ctlshell.get(pvs["enum"]).value == 1  # written back by its label
    assert str(ctlshell.get(pvs["double"])).startswith(f"{pvs['double']} = 2.539 mm")
    assert run(ip, f"snapshot diff {snap}")[0] == []


def test_an_old_snapshot_with_enum_indexes_still_compares_by_label(ip, pvs, tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"saved": 1.7e9, "values": {pvs["enum"]: 0}}))  # Open, as an index
    ctlshell.get(pvs["enum"])  # the channel's choices are known
    changes, _ = run(ip, f"snapshot diff {old}")
    assert changes == [(pvs["enum"], "Open", "Closed")]
    assert "saved Open, now Closed" in shown(ip, changes)[0]


def test_status_says_when_each_value_was_taken_and_whether_it_is_live(ip, pvs, prefix):
    read_once, watched = pvs["double"], pvs["long"]
    ctlshell.get(read_once)
    first = threading.Event()
    sub = ctlshell.monitor(watched, lambda r: first.set())
    try:
        assert first.wait(10)  # the first update delivered: its channel's metadata is known
        wait_for(lambda: any(s.address == watched and s.users == 1 and s.last_update for s in ctlshell.status()), 10)
        table, _ = run(ip, "status")
        text, rich = shown(ip, table)
        rows = {ln.split()[0]: ln for ln in text.splitlines()[1:]}
        assert "2.539 mm" in rows[read_once] and "no (not monitored)" in rows[read_once]
        assert CLOCK.search(rows[read_once]) and re.search(r"\d+(\.\d)? s", rows[read_once])
        assert "42 counts" in rows[watched] and re.search(r"\blive\b", rows[watched])
        assert not EPOCH.search(text)
        plain = {s.address: str(s) for s in ctlshell.status()}
        assert "(not live)" in plain[read_once] and "(live)" in plain[watched]
    finally:
        sub.close()


def test_info_shows_a_table_not_the_dataclass(ip, pvs):
    text, rich = shown(ip, ctlshell.info(pvs["double"]))
    assert "Metadata(" not in text and "Metadata(" not in rich
    assert re.search(r"units: mm", text) and re.search(r"precision: 3", text)
    assert "<table" in rich and "mm" in rich
    text, _ = shown(ip, ctlshell.info(pvs["enum"]))
    assert "choices: Open, Closed" in text


def test_an_alarm_is_shown_when_not_ok_and_only_then(ip, prefix):
    hot = ctlshell.host(f"{prefix}HOT", 450.0, units="K", precision=1, alarm_limits=(10, 400))
    try:
        reading = ctlshell.get(hot.address)
        assert str(reading).endswith("= 450.0 K @ " + str(reading).split(" @ ")[1]) and "[MAJOR HIHI]" in str(reading)
        text, rich = shown(ip, run(ip, f"get {hot.address}")[0])
        assert "450.0 K" in text and "MAJOR HIHI" in text and "color:#dc322f" in rich
        hot.value = 300.0
        wait_for(lambda: ctlshell.get(hot.address).value == 300.0, 10)
        assert "[" not in str(ctlshell.get(hot.address))  # no alarm, no bracket
    finally:
        hot.remove()


@pytest.mark.parametrize("scheme", ["ca", "pva", "local"])
def test_the_metadata_is_fetched_once_per_channel(prefix, scheme, monkeypatch):
    from ctlshell.api import session

    pv = ctlshell.host(f"{prefix}ONCE", 1.25, units="mm", precision=2)
    cache = session().cache
    calls = []
    original = cache.info

    async def counted(address, timeout):
        calls.append(str(address))
        return await original(address, timeout)

    monkeypatch.setattr(cache, "info", counted)
    try:
        address = f"{scheme}://{prefix}ONCE"
        readings = [ctlshell.get(address) for _ in range(3)]
        assert all(r.address == address for r in readings)  # the key the display looks up
        assert calls == [address]  # the first get asks once; later gets do not
        assert "1.25 mm" in str(readings[0])
    finally:
        pv.remove()


def test_a_name_hosted_again_with_another_declaration_shows_the_new_units_and_labels(prefix):
    """A notebook cell changed and run again: the display follows the new declaration,
    on CA and PVA, never the units or choices of the PV that was there before."""
    name = f"{prefix}AGAIN"
    try:
        ctlshell.host(name, 1.5, units="mm", precision=2)
        assert str(ctlshell.get(f"ca://{name}")).startswith(f"ca://{name} = 1.50 mm")
        assert str(ctlshell.get(f"pva://{name}")).startswith(f"pva://{name} = 1.50 mm")
        ctlshell.host(name, 1, enum=["Off", "On"])
        assert str(ctlshell.get(f"ca://{name}")).startswith(f"ca://{name} = On @")
        assert str(ctlshell.get(f"pva://{name}")).startswith(f"pva://{name} = On @")
        ctlshell.host(name, 7.25, units="V", precision=1)
        assert str(ctlshell.get(f"ca://{name}")).startswith(f"ca://{name} = 7.2 V")
        assert str(ctlshell.get(f"pva://{name}")).startswith(f"pva://{name} = 7.2 V")
    finally:
        ctlshell.unhost(name)
