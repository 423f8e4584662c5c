"""The ``pva://`` backend against a plain p4p server in another process (acceptance 3,
4 and 5 of PV Access, direct; the gateway half is test_pva_gateway.py)."""

from __future__ import annotations

import threading
import time
import uuid

import numpy as np
import pytest

import ctlshell
from ctlshell import Severity
from ctlshell.core import AddressError, NotFoundError, ValidationError

from ._pva import P4pServer, next_pool_port


@pytest.fixture(scope="module")
def server():
    prefix = f"P{uuid.uuid4().hex[:6]}:"
    proc = P4pServer(prefix, next_pool_port())
    proc.start()
    proc.prefix = prefix
    yield proc
    proc.close()


class Seen:
    """A monitor callback that remembers readings and lets a test wait for one."""

    def __init__(self) -> None:
        self.readings: list[ctlshell.Reading] = []
        self._cond = threading.Condition()

    def __call__(self, reading: ctlshell.Reading) -> None:
        with self._cond:
            self.readings.append(reading)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 10.0) -> ctlshell.Reading:
        # each reading is tested once: rescanning all of them at every wake-up made a
        # 30 000-update flood quadratic in the test itself, which starved the delivery
        # it was waiting for on a loaded 2-core machine
        deadline = time.monotonic() + timeout
        checked = 0
        with self._cond:
            while True:
                while checked < len(self.readings):
                    r = self.readings[checked]
                    checked += 1
                    if predicate(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = [str(r) for r in self.readings[-5:]]
                    raise AssertionError(f"no matching reading in {len(self.readings)} readings; the last: {tail}")
                self._cond.wait(left)


def test_ntscalar_value_metadata_alarm_and_timestamp(server):
    p = server.prefix
    r = ctlshell.get(f"pva://{p}TEMP")
    assert r.value == 21.5 and r.severity is Severity.MINOR and r.status == "HIGH"
    assert r.timestamp == pytest.approx(1_700_000_000.25, abs=1e-6)
    meta = ctlshell.info(f"pva://{p}TEMP")
    assert (meta.dtype, meta.units, meta.precision) == ("double", "degC", 2)
    assert meta.display_limits == (-50.0, 150.0) and meta.control_limits == (-20.0, 120.0)
    assert meta.alarm_limits == (-10.0, 100.0) and meta.warning_limits == (0.0, 80.0)


def test_array_enum_put_and_monitor(server):
    p = server.prefix
    assert ctlshell.get(f"pva://{p}WAVE").value.tolist() == [0, 1, 2, 3, 4]
    assert ctlshell.info(f"pva://{p}WAVE").count == 5
    assert ctlshell.info(f"pva://{p}MODE").choices == ("Off", "On")
    ctlshell.put(f"pva://{p}MODE", "Off", wait=True)
    assert ctlshell.get(f"pva://{p}MODE").value == 0

    seen = Seen()
    with ctlshell.monitor(f"pva://{p}TEMP", seen):
        seen.wait_for(lambda r: r.connected)
        ctlshell.put(f"pva://{p}TEMP", 30.0, wait=True)
        seen.wait_for(lambda r: r.value == 30.0)
    ctlshell.put(f"pva://{p}WAVE", [5, 6, 7, 8, 9, 10], wait=True)  # PVA arrays may change length
    assert ctlshell.get(f"pva://{p}WAVE").value.tolist() == [5, 6, 7, 8, 9, 10]


def test_plain_structure_field_by_field(server):
    p = server.prefix
    whole = ctlshell.get(f"pva://{p}STRUCT")
    assert whole.value == {"x": 1.5, "a.b": 7, "a.c": "seven"}
    assert ctlshell.info(f"pva://{p}STRUCT").dtype == "struct"
    assert ctlshell.get(f"pva://{p}STRUCT.a.b").value == 7
    assert ctlshell.info(f"pva://{p}STRUCT.a.c").dtype == "string"

    seen = Seen()
    with ctlshell.monitor(f"pva://{p}STRUCT.a.b", seen):
        seen.wait_for(lambda r: r.value == 7)
        ctlshell.put(f"pva://{p}STRUCT.x", 2.5, wait=True)  # another field: no update of a.b
        ctlshell.put(f"pva://{p}STRUCT.a.b", 8, wait=True)
        seen.wait_for(lambda r: r.value == 8)
    assert [r.value for r in seen.readings] == [7, 8]
    assert ctlshell.get(f"pva://{p}STRUCT").value == {"x": 2.5, "a.b": 8, "a.c": "seven"}


def test_bad_input_raises_and_changes_nothing(server):
    p = server.prefix
    before = {n: ctlshell.get(f"pva://{p}{n}").value for n in ("TEMP", "STRUCT")}
    wave = ctlshell.get(f"pva://{p}WAVE").value.tolist()

    with pytest.raises(ValidationError, match="not a number"):
        ctlshell.put(f"pva://{p}TEMP", "warm")
    with pytest.raises(ValidationError, match="outside the control limits"):
        ctlshell.put(f"pva://{p}TEMP", 500.0)
    with pytest.raises(ValidationError, match="expected one double, got 3 elements"):
        ctlshell.put(f"pva://{p}TEMP", [1.0, 2.0, 3.0])
    with pytest.raises(ValidationError, match="one-dimensional"):
        ctlshell.put(f"pva://{p}WAVE", np.zeros((2, 3)))
    with pytest.raises(ValidationError, match="is a structure; write one of its fields"):
        ctlshell.put(f"pva://{p}STRUCT", 1.0)
    with pytest.raises(ValidationError, match="not a whole number"):
        ctlshell.put(f"pva://{p}STRUCT.a.b", 1.5)
    with pytest.raises(NotFoundError, match=r"no field 'a\.nope' \(fields: x, a\.b, a\.c\)"):
        ctlshell.put(f"pva://{p}STRUCT.a.nope", 1, timeout=2)
    with pytest.raises(NotFoundError, match="no field"):
        ctlshell.get(f"pva://{p}TEMP.nope", timeout=2)
    for bad in (f"pva://{p}STRUCT..a", f"pva://{p}STRUCT.", "pva:/X", "pva://", "pva://A B"):
        with pytest.raises(AddressError):
            ctlshell.get(bad)

    assert {n: ctlshell.get(f"pva://{p}{n}").value for n in ("TEMP", "STRUCT")} == before
    assert ctlshell.get(f"pva://{p}WAVE").value.tolist() == wave


def test_unknown_name_times_out(server):
    with pytest.raises(ctlshell.ChannelTimeoutError, match=f"pva://{server.prefix}NOPE"):
        ctlshell.get(f"pva://{server.prefix}NOPE", timeout=0.5)


def test_twenty_subscribers_share_one_upstream_monitor(server):
    address = f"pva://{server.prefix}TEMP"
    entry = ctlshell.api.session().cache.entry(ctlshell.core.parse_address(address))
    opens = entry.upstream_opens
    seen = [Seen() for _ in range(20)]
    subs = [ctlshell.monitor(address, s) for s in seen]
    try:
        ctlshell.put(address, 42.0, wait=True)
        for s in seen:
            s.wait_for(lambda r: r.value == 42.0)
        status = next(c for c in ctlshell.status() if c.address == address)
        assert status.users == 20
        assert entry.upstream_opens == opens + 1
    finally:
        for sub in subs:
            sub.close()


def test_server_restart_shows_disconnected_then_resumes(server):
    p = server.prefix
    seen = Seen()
    with ctlshell.monitor(f"pva://{p}WAVE", seen):
        seen.wait_for(lambda r: r.connected)
        server.restart()  # same port, fresh values
        seen.wait_for(lambda r: r.severity is Severity.DISCONNECTED)
        server.send(f'post {p}WAVE [9, 9, 9]')
        resumed = seen.wait_for(lambda r: r.connected and list(r.value) == [9, 9, 9], timeout=20)
    assert resumed.severity is Severity.NO_ALARM


def test_subscribers_come_and_go_during_a_flood(server):
    """Updates fan out on p4p's own thread while subscribers join and leave on the
    loop: every subscriber sees values in order, ends on the last one, and none of
    its callbacks fails; a late subscriber starts from a current value."""
    n = 30_000
    address = f"pva://{server.prefix}COUNT"
    steady = [Seen() for _ in range(3)]
    subs = [ctlshell.monitor(address, s, policy=ctlshell.KeepLast(n)) for s in steady]
    latest = Seen()
    subs.append(ctlshell.monitor(address, latest))
    for s in (*steady, latest):
        s.wait_for(lambda r: r.connected)
    server.send(f"flood {n}")  # 1, 2, ... n
    final = float(n)
    churn: list[tuple[Seen, ctlshell.Subscription]] = []
    deadline = time.monotonic() + 30
    while not server.output().count("@@flooded") and time.monotonic() < deadline:
        late = Seen()
        churn.append((late, ctlshell.monitor(address, late, policy=ctlshell.KeepLast(n))))
        if len(churn) > 3:
            churn.pop(0)[1].close()
        time.sleep(0.005)
    assert server.output().count("@@flooded") == 1, "the flood did not end"
    for s in (*steady, latest, *(late for late, _ in churn)):
        s.wait_for(lambda r: r.value == final, timeout=30)
    try:
        for s in (*steady, latest, *(late for late, _ in churn)):
            values = [r.value for r in s.readings if r.connected]
            assert all(a < b for a, b in zip(values, values[1:])), "a subscriber saw an older value after a newer"
        for sub in (*subs, *(sub for _, sub in churn)):
            assert sub.errors == 0
    finally:
        for sub in (*subs, *(sub for _, sub in churn)):
            sub.close()
