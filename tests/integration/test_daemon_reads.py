"""Issue 22: a client's read of a hosted Item reaches the daemon, as in mKTL.

Reads by pyepics (libca) and p4p in other processes and by ctlshell itself go
through ``req_refresh``/``req_get``; concurrent reads share one refresh; a failing
refresh answers with the cache under a MAJOR alarm; a blocking one holds up no other
PV, not even on the same client connection."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import ctlshell
from ctlshell import Severity
from ctlshell.host import Daemon, Item

from ._pva import p4p
from .conftest import Background, pyepics


class Counting(Item):
    """Reads its 'hardware' on request: 100, 101, 102, ..."""

    delay = 0.0
    fail = False
    block: threading.Event | None = None

    def __init__(self, daemon, key):
        super().__init__(daemon, key)
        self.calls = 0
        self._next = 100

    def req_refresh(self):
        self.calls += 1
        if self.block is not None:
            self.block.wait(10)
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise OSError("sensor gone")
        value, self._next = self._next, self._next + 1
        return value


class Asked(Item):
    """Overrides req_get itself (no refresh parameter): answers the time it was asked."""

    def req_get(self):
        return round(time.time() % 1000, 3)


class Bench(Daemon):
    CATALOG = {"N": {"type": "numeric", "initial": 1.0, "settable": False},
               "ASKED": {"type": "numeric", "initial": 0.0, "settable": False},
               "PLAIN": {"type": "numeric", "initial": 5.0}}

    def setup(self):
        self.add_item(Counting, "N")
        self.add_item(Asked, "ASKED")


@pytest.fixture
def bench(prefix):
    daemon = ctlshell.host(Bench(prefix))
    yield daemon
    ctlshell.unhost(daemon)


def _consecutive(values):
    return all(b == a + 1 for a, b in zip(values, values[1:]))


def test_every_client_read_goes_through_req_refresh(bench, prefix):
    name = prefix + "N"
    watcher = Background("monitor", name, "6")
    watcher.wait_ready()
    by_ca = [r["value"] for r in pyepics("reads", name, "3")]
    by_pva = [r["value"] for r in p4p("reads", name, "3")]
    ctlshell.info(f"ca://{name}")  # the display's metadata (a CTRL read: one refresh too) first
    by_ctlshell = [ctlshell.get(f"ca://{name}").value for _ in range(3)]
    by_local = [ctlshell.get(f"local://{name}").value for _ in range(3)]
    for values in (by_ca, by_pva, by_ctlshell, by_local):
        assert len(values) == 3 and _consecutive(values), (by_ca, by_pva, by_ctlshell, by_local)
    everything = by_ca + by_pva + by_ctlshell + by_local
    assert everything == sorted(everything) and everything[0] >= 100  # never the catalog's 1.0
    assert bench["N"].calls >= 12
    seen = [u["value"] for u in watcher.result()]
    assert set(everything) <= set(seen), (everything, seen)  # each read value was published


def test_an_item_overriding_req_get_answers_each_read(bench, prefix):
    first = ctlshell.get(f"ca://{prefix}ASKED").value
    time.sleep(0.05)
    second = ctlshell.get(f"ca://{prefix}ASKED").value
    assert first != 0.0 and second != first


def test_items_without_hooks_are_answered_from_the_cache(bench, prefix):
    assert not bench["PLAIN"].reads_through and bench["N"].reads_through
    assert [r["value"] for r in pyepics("reads", prefix + "PLAIN", "2")] == [5.0, 5.0]


def test_concurrent_reads_share_one_refresh(bench, prefix):
    item = bench["N"]
    item.delay = 1.0  # reads started over up to a second (a loaded machine) still overlap one refresh
    for address in (f"local://{prefix}N", f"ca://{prefix}N"):
        item.calls = 0
        with ThreadPoolExecutor(100) as pool:
            readings = list(pool.map(lambda _: ctlshell.get(address, timeout=10), range(100)))
        assert len(readings) == 100 and all(r.value >= 100 for r in readings)
        assert item.calls <= 2, (address, item.calls)


def test_refresh_max_age_serves_the_cache_to_a_loop_of_reads(bench, prefix):
    item = bench["N"]
    item.refresh_max_age = 30.0
    item.calls = 0
    values = {ctlshell.get(f"local://{prefix}N").value for _ in range(20)}
    assert item.calls == 1 and len(values) == 1


def test_a_failing_refresh_answers_the_cache_with_a_major_alarm(bench, prefix):
    name = prefix + "N"
    good = pyepics("reads", name, "1")[0]
    assert good["severity"] == 0
    bench["N"].fail = True
    failed = pyepics("reads", name, "2")
    assert [r["value"] for r in failed] == [good["value"]] * 2
    assert [r["severity"] for r in failed] == [2, 2]  # MAJOR
    assert ctlshell.get(f"local://{name}").severity == Severity.MAJOR
    bench["N"].fail = False
    recovered = pyepics("reads", name, "1")[0]
    assert recovered["severity"] == 0 and recovered["value"] == good["value"] + 1


def test_a_blocking_refresh_delays_no_other_pv(bench, prefix, hosted):
    hosted("OTHER", 3.0)
    gate = threading.Event()
    bench["N"].block = gate
    try:
        # same daemon, same client connection as the pending read
        got = pyepics("beside", prefix + "N", prefix + "PLAIN", "50")
        # another hosted PV, and ctlshell's own reads in this process, meanwhile
        stalled = threading.Thread(target=ctlshell.get, args=(f"local://{prefix}N",), kwargs={"timeout": 20})
        stalled.start()
        local = []
        for _ in range(50):
            start = time.perf_counter()
            ctlshell.get(f"local://{prefix}OTHER")
            local.append(time.perf_counter() - start)
    finally:
        gate.set()
    stalled.join(20)
    assert statistics.median(got["durations"]) < 0.005, got["durations"]
    assert max(got["durations"]) < 1.0  # nowhere near the 10 s the item blocks for
    assert statistics.median(local) < 0.005
    assert got["slow"] >= 100  # the held read was answered once the item had read
