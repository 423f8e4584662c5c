"""The update lane (ADR 0029): DBR_TIME / DBR_DOUBLE monitors of a scalar double are
sent from the thread that sets the PV; every other monitor (a waveform's, a DBR_CTRL
one) goes caproto's way. Checked with pyepics (libca) in other processes: what arrives
is what was stored (value, alarm, timestamp, order) on both paths, the lane keeps
sending while the runtime's loop is busy, monitors made in the middle of a flood end on
the newest value, and a caproto-served monitor beside lane ones misses nothing."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import ctlshell
from ctlshell.api import session

from .conftest import Background, pyepics

POINTS = 300


def _stored(pv, value):
    pv.value = value
    return pv.reading


def _check_against(seen: list[dict], stored: dict[float, list], name: str) -> None:
    assert seen, f"{name}: no update arrived"
    for update in seen:
        assert update["value"] in stored, f"{name}: {update['value']} was never stored"
        matches = [r for r in stored[update["value"]] if abs(r.timestamp - update["timestamp"]) < 2e-6]
        assert matches, f"{name}: {update['value']} came with timestamp {update['timestamp']}, stored {[r.timestamp for r in stored[update['value']]]}"
        assert any(int(r.severity) == update["severity"] for r in matches), (name, update, matches)


def _flood_with_alarms(scalar, soft, wave) -> tuple[dict[float, list], dict[float, list]]:
    stored_s: dict[float, list] = {0.0: [scalar.reading]}  # the first update: the value at subscription
    stored_w: dict[float, list] = {0.0: [wave.reading]}
    data = np.zeros(1000)
    for i in range(1, POINTS + 1):
        stored_s.setdefault(float(i), []).append(_stored(scalar, float(i)))
        data = data.copy()
        data[0] = i
        stored_w.setdefault(float(i), []).append(_stored(wave, data))
        if i % 30 == 0:  # an alarm without a new value: an update of its own
            stored_s[float(i)].append(soft.set_alarm(ctlshell.Severity.INVALID, "COMM"))
        time.sleep(0.002)
    return stored_s, stored_w


def test_time_and_plain_monitors_get_what_was_stored_alarm_and_timestamp_included(prefix):
    scalar = ctlshell.host(prefix + "S", 0.0, warning_limits=(-1, 250), alarm_limits=(-2, 280))
    soft = session().store.get(prefix + "S")
    wave = ctlshell.host(prefix + "W", np.zeros(1000))
    clients = [Background("both", prefix + "S", "6"), Background("both", prefix + "W", "6")]
    try:
        for client in clients:
            client.wait_ready()
        stored_s, stored_w = _flood_with_alarms(scalar, soft, wave)
    finally:
        got_s, got_w = (client.result() for client in clients)
    for got, stored, name in ((got_s, stored_s, "scalar"), (got_w, stored_w, "waveform")):
        values = [u["value"] for u in got["time"]]
        assert values == sorted(values), f"{name}: DBR_TIME updates out of order"
        assert values[-1] == POINTS, f"{name}: the last value {values[-1]} is not the last stored"
        _check_against(got["time"], stored, name)
        plain = [u["value"] for u in got["plain"]]
        assert plain == sorted(plain) and plain[-1] == POINTS, f"{name}: plain DBR_DOUBLE updates"
    # every update seen had its stored alarm (above); a loaded client may skip a range
    # (the newest value wins), but never the last: POINTS is a multiple of 30, so the
    # last update is the set_alarm after it
    assert got_s["time"][-1]["severity"] == 3, got_s["time"][-3:]


def test_monitors_keep_flowing_while_the_runtime_loop_is_busy(prefix):
    pv = ctlshell.host(prefix + "S", 0.0)
    client = Background("monitor", prefix + "S", "6")
    client.wait_ready()
    time.sleep(0.5)
    busy = threading.Event()

    def hog() -> None:  # a handler that holds the loop (a slow read, a long computation)
        busy.set()
        time.sleep(3.0)

    session().runtime.loop.call_soon_threadsafe(hog)
    assert busy.wait(10)
    start = time.time()
    for i in range(1, 11):
        pv.value = float(i)
        time.sleep(0.05)
    seen = client.result()
    # the sets take 0.5 s; whatever arrived before the loop was free again was sent
    # without it (none arrives so without the lane)
    during = [u["value"] for u in seen if start <= u["t"] < start + 2.8]
    assert len(during) >= 8, f"only {during} arrived while the loop was busy"
    assert seen[-1]["value"] == 10.0


def test_monitors_made_during_a_flood_end_on_the_newest_value(prefix):
    pv = ctlshell.host(prefix + "S", 0.0)
    client = Background("joins", prefix + "S", "20", "0.05", "5")
    client.wait_ready()
    stop = threading.Event()

    def flood() -> None:
        i = 0
        until = time.monotonic() + 2.0
        while not stop.is_set() and time.monotonic() < until:
            i += 1
            pv.value = float(i)
            time.sleep(0.0002)

    flooder = threading.Thread(target=flood, daemon=True)
    flooder.start()
    flooder.join(10)
    final = pv.value
    got = client.result()
    stop.set()
    assert got["last"] == [final] * 20, f"final {final}; last seen per monitor {got['last']}"


def test_a_ctrl_monitor_beside_lane_monitors_gets_the_changes_and_reads_stay_current(prefix):
    """The lane's PVs are not published through caproto while only the lane serves them:
    a monitor caproto serves must turn that publication back on, and reads must see
    the newest value either way."""
    pv = ctlshell.host(prefix + "S", 0.0)
    lane = Background("monitor", prefix + "S", "8")
    lane.wait_ready()
    for i in range(1, 101):  # the lane alone
        pv.value = float(i)
        time.sleep(0.002)
    ctrl = Background("monitor", prefix + "S", "3", "ctrl")
    ctrl.wait_ready()
    for i in range(101, 301):  # the lane and caproto
        pv.value = float(i)
        time.sleep(0.002)
    got_ctrl = ctrl.result()
    for i in range(301, 401):  # the lane alone again, once the DBR_CTRL monitor has gone
        pv.value = float(i)
        time.sleep(0.002)
    read = pyepics("describe", prefix + "S")[prefix + "S"]
    got_lane = lane.result()
    ctrl_values = [u["value"] for u in got_ctrl]
    # more than its first update (all it got when caproto's publication stayed off)
    assert ctrl_values[-1] == 300.0 and len(ctrl_values) >= 2, ctrl_values[-5:]
    assert ctrl_values == sorted(ctrl_values)
    lane_values = [u["value"] for u in got_lane]
    assert lane_values[-1] == 400.0 and lane_values == sorted(lane_values)
    assert read["value"] == 400.0, "a read after the lane's updates gives an old value"


def test_changes_while_a_client_turned_events_off_reach_it_at_events_on(hosted, prefix):
    """libca sends EVENTS_OFF when it falls behind (an in-process client flooded by 2 000
    PVs) and EVENTS_ON when it has caught up: the newest value must follow, even if the
    PV does not change again."""
    import caproto as ca

    from .test_ca_disconnects import _RawClient

    pv = hosted("S", 0.0)
    client = _RawClient(session().ca_server().port)
    try:
        chan = client.connect(prefix + "S")
        sub = chan.subscribe(data_type=ca.ChannelType.TIME_DOUBLE)
        client.send(sub)
        values: list[float] = []

        def updates(commands: list) -> list[float]:
            return [float(c.data[0]) for c in commands
                    if isinstance(c, ca.EventAddResponse) and c.data_count]

        while not values:
            values += updates(client.pump())
        pv.value = 1.0
        while values[-1] != 1.0:
            values += updates(client.pump())  # the lane serves it now
        client.send(ca.EventsOffRequest())
        time.sleep(0.5)  # the server has read it
        for i in range(2, 51):
            pv.value = float(i)
        time.sleep(0.5)
        client.sock.settimeout(0.5)
        try:
            while True:  # what was on its way before the server read EVENTS_OFF
                values += updates(client.pump())
        except TimeoutError:
            pass
        assert values[-1] != 50.0, "the server kept sending after EVENTS_OFF"
        client.sock.settimeout(10)
        client.send(ca.EventsOnRequest())
        deadline = time.monotonic() + 10
        while values[-1] != 50.0:
            assert time.monotonic() < deadline, f"after EVENTS_ON the client still has {values[-1]}"
            values += updates(client.pump())
    finally:
        client.vanish(reset=False)


def test_an_unmonitored_scalar_reads_back_its_newest_value_alarm_and_timestamp(prefix):
    """Nobody monitors these PVs, so their caproto channels are written only when a
    client reads them or subscribes (``_Mirror.catch_up``): what that client gets is the
    newest value, from a plain read, a CTRL read, and a new monitor's first update."""
    pvs = {"D": ctlshell.host(prefix + "D", 0.0, alarm_limits=(-5, 500)),
           "I": ctlshell.host(prefix + "I", 0),
           "E": ctlshell.host(prefix + "E", 0, enum=["Off", "On", "Fault"])}

    def setter():
        for i in range(1, 2001):
            pvs["D"].value = float(i) / 2
            pvs["I"].value = i
            pvs["E"].value = i % 3

    thread = threading.Thread(target=setter)  # as a daemon's worker thread would
    thread.start()
    thread.join(60)
    names = [prefix + k for k in pvs]
    seen = pyepics("describe", *names)
    assert [seen[n]["value"] for n in names] == [1000.0, 2000, 2]  # 2000 % 3: "Fault", its index
    assert seen[prefix + "D"]["severity"] == 2  # 1000.0 is past the alarm limit: MAJOR
    assert seen[prefix + "D"]["timestamp"] == pytest.approx(pvs["D"].reading.timestamp, abs=2e-6)
    assert seen[prefix + "E"]["enum_strs"] == ["Off", "On", "Fault"]
    for value in (7.25, 8.5):  # and again, with nobody monitoring in between
        pvs["D"].value = value
        for ctrl in ("", "ctrl"):
            first = pyepics("monitor", prefix + "D", "0.3", *([ctrl] if ctrl else []))[0]
            # the second round: caproto had kept the first round's initial updates
            # for the next subscriber, and handed out 7.25 again
            assert first["value"] == value and first["severity"] == 0, (ctrl, first)
