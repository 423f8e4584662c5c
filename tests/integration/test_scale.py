"""Issue 18: thousands of channels in one session at a flat cost.

Real servers only: PVs hosted by this process's CA server and read back over CA, a
Tango device server with a hundred attributes. Timing bounds have margins for a
loaded two-core machine; the worst case measured is printed (``-s``)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any

import pytest

import ctlshell
from ctlshell import KeepLast
from ctlshell.api import close_all, monitor_many

from ..waiting import wait_for


def os_threads() -> int:
    """Threads of this process as the kernel counts them (libca's and pvxs's too)."""
    return len(os.listdir("/proc/self/task"))


def ctlshell_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("ctlshell")]


def test_2000_monitors_use_at_most_16_threads_and_each_gets_every_update_in_order(prefix):
    n, updates = 2000, 5
    handles = [ctlshell.host(f"{prefix}M{i}", 0.0) for i in range(n)]
    seen: dict[str, list[float]] = {h.address: [] for h in handles}
    threads_before = os_threads()

    def receive(reading: Any) -> None:
        seen[reading.address].append(reading.value)  # one list per channel: order is kept per subscription

    subs = monitor_many([h.address for h in handles], receive, policy=KeepLast(100))
    try:
        assert subs.ok, subs.errors
        wait_for(lambda: all(seen.values()), 30, "every first value")
        for k in range(1, updates + 1):
            for h in handles:
                h.value = float(k)
            time.sleep(0.05)
        wait_for(lambda: all(v[-1:] == [float(updates)] for v in seen.values()), 30, "every last update")
        threads_during = os_threads()
        named = ctlshell_threads()
    finally:
        close_all(subs)
        for h in handles:
            h.remove()
    for address, values in seen.items():
        # each subscription's updates in the order written (CA may merge, never reorder)
        assert values == sorted(values) and values[-1] == float(updates), (address, values)
    assert sum(len(v) for v in seen.values()) >= n * 2  # not just the first and last of each
    assert len(named) <= 16, named
    assert threads_during - threads_before <= 16, f"{threads_during - threads_before} threads more for {n} monitors"
    print(f"{n} monitors: {len(named)} ctlshell threads, +{threads_during - threads_before} OS threads")


def test_a_callback_sleeping_1s_per_update_does_not_delay_the_others(prefix):
    """At 10 Hz, every fast subscriber sees every update, none of them held back by one
    subscriber whose callback sleeps a second per update (moved to its own thread).

    Subscribed through ``local://``: the delivery pool is what is tested, so no protocol
    between may coalesce updates (a CA server gives a client that falls behind the
    newest value, by design). Load-proof bound: a fast subscriber sharing a worker with
    the sleeping callback would wait up to a second; each delay stays far below that."""
    fast_n, rate, duration = 20, 10.0, 3.0
    pv = ctlshell.host(f"{prefix}SLOW", 0.0)
    address = f"local://{prefix}SLOW"
    arrivals: dict[int, dict[float, float]] = {i: {} for i in range(fast_n)}

    def fast(i: int) -> Any:
        def cb(reading: Any) -> None:
            arrivals[i][reading.value] = time.monotonic()
        return cb

    slow_calls: list[float] = []

    def slow(reading: Any) -> None:
        slow_calls.append(reading.value)
        time.sleep(1.0)

    subs = [ctlshell.monitor(address, fast(i), policy=KeepLast(100)) for i in range(fast_n)]
    slow_sub = ctlshell.monitor(address, slow)
    written: dict[float, float] = {}
    try:
        wait_for(lambda: all(0.0 in a for a in arrivals.values()), 10, "the first values")
        time.sleep(0.3)  # the slow callback is inside its first sleep: moved off by now
        for k in range(1, int(duration * rate) + 1):
            written[float(k)] = time.monotonic()
            pv.value = float(k)
            time.sleep(1 / rate)
        last = float(len(written))
        wait_for(lambda: all(last in a for a in arrivals.values()), 5, "the last update at every fast subscriber")
    finally:
        for s in subs:
            s.close()
        slow_sub.close(timeout=2)
        pv.remove()
    delays = sorted(a[v] - t for a in arrivals.values() for v, t in written.items() if v in a)
    missing = sum(v not in a for a in arrivals.values() for v in written)
    worst, p99 = delays[-1], delays[int(len(delays) * 0.99)]
    print(f"fast subscribers: worst {worst * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms over {len(delays)} deliveries; "
          f"slow callback calls {len(slow_calls)}, moves {slow_sub.moves}, slowest {slow_sub.slowest:.2f} s")
    assert missing == 0, f"{missing} updates never reached a fast subscriber"
    assert worst < 0.5, f"worst delay {worst * 1e3:.1f} ms (p99 {p99 * 1e3:.1f} ms): held behind the slow callback"
    assert slow_sub.moves == 1 and slow_sub.slowest >= 1.0  # measured, and reported
    assert len(slow_calls) < len(written)  # the slow one kept only the newest (policy latest)
    assert slow_sub.received == slow_sub.delivered + slow_sub.dropped + slow_sub.pending


def test_pv_get_of_20_addresses_with_5_dead_returns_in_one_timeout(ip, prefix, capsys):
    live = [ctlshell.host(f"{prefix}G{i}", float(i)) for i in range(15)]
    dead = [f"ca://{prefix}DEAD{i}" for i in range(5)]
    addresses = [h.address for h in live[:8]] + dead + [h.address for h in live[8:]]
    timeout = 2.0
    try:
        started = time.monotonic()
        table = ip.run_line_magic("pv", f"get {' '.join(addresses)} --timeout {timeout}")
        took = time.monotonic() - started
    finally:
        for h in live:
            h.remove()
    err = capsys.readouterr().err
    assert took < timeout + 1.5, f"took {took:.1f} s: the dead channels were waited for one after another"
    assert [r.value for r in table] == [float(i) for i in range(15)]
    assert sorted(table.errors) == sorted(dead)
    for address in dead:
        assert f"{address}: no answer to get within {timeout} s" in err


def test_connect_device_on_a_tango_device_with_100_attributes_adds_no_thread_per_attribute(tango_db):
    """The second of two such devices (one server process, the first warms up every
    library's fixed threads: the delivery pool, the Tango pump, cppTango's event
    threads) costs no thread for its hundred subscriptions."""
    from ctlshell.proxies import connect_device, disconnect_device
    from ctlshell.testing import TangoServer
    from ctlshell.testing._tango_devices import WIDE_ATTRIBUTES

    uid = uuid.uuid4().hex[:8]
    first, second = f"test/wide{uid}/1", f"test/wide{uid}/2"
    server = TangoServer(f"w{uid}", {first: "CtlWide", second: "CtlWide"}, database=tango_db).start()
    keys = [f"a{i:03d}" for i in range(WIDE_ATTRIBUTES)]
    try:
        warm = connect_device(server.address(first))
        try:
            before = os_threads()
            proxy = connect_device(server.address(second))
            try:
                assert [getattr(proxy, k) for k in keys] == [0.0] * WIDE_ATTRIBUTES
                proxy.a042 = 4.2
                wait_for(lambda: proxy.a042 == 4.2, 10, "the write to come back as an event")
                during = os_threads()
                named = ctlshell_threads()
            finally:
                disconnect_device(proxy)
        finally:
            disconnect_device(warm)
    finally:
        server.close()
    print(f"second proxy of {WIDE_ATTRIBUTES} attributes: +{during - before} OS threads; "
          f"{len(named)} ctlshell threads in all")
    assert during - before <= 3, f"{during - before} threads more for a device of {WIDE_ATTRIBUTES} attributes"
    assert len(named) <= 16, named


def test_many_address_verbs_refuse_bad_input_with_one_line_and_send_nothing(prefix):
    from ctlshell.core import AddressError, ValidationError

    pv = ctlshell.host(f"{prefix}B", 1.0, writable=True)
    try:
        for call, message in [
            (lambda: ctlshell.get_many(pv.address), "give a list of addresses"),
            (lambda: ctlshell.get_many([]), "no addresses given"),
            (lambda: ctlshell.get_many([pv.address], timeout=0), "timeout must be a positive number"),
            (lambda: ctlshell.put_many({pv.address: 5.0, f"{prefix}B": 6.0}), "given twice"),
            (lambda: ctlshell.put_many([pv.address, 5.0]), "a mapping {address: value}"),
            (lambda: ctlshell.monitor_many([pv.address], 42), "callback must be callable"),
        ]:
            with pytest.raises(ValidationError, match=message) as info:
                call()
            assert "\n" not in str(info.value)
        with pytest.raises(AddressError):
            ctlshell.put_many({pv.address: 7.0, "zz://nope": 1.0})  # the good one is not written either
        assert ctlshell.get(pv.address).value == 1.0
        # a refused value is that address's error; the other channel is written
        other = ctlshell.host(f"{prefix}C", 1.0, writable=True, limits=(0, 10))
        try:
            r = ctlshell.put_many({pv.address: 2.0, other.address: 50.0}, wait=True)
            assert list(r.errors) == [other.address] and "outside the control limits" in str(r.errors[other.address])
            with pytest.raises(ValidationError):
                r[other.address]
            assert ctlshell.get(pv.address).value == 2.0 and ctlshell.get(other.address).value == 1.0
        finally:
            other.remove()
    finally:
        pv.remove()


def test_pv_info_reports_a_callback_that_blocked(ip, prefix):
    pv = ctlshell.host(f"{prefix}I", 0.0)
    sub = ctlshell.monitor(pv.address, lambda r: time.sleep(0.3))
    try:
        wait_for(lambda: sub.moved, 5, "the slow callback to be moved off")
        wait_for(lambda: sub.calls >= 1, 5, "its first call to return")
        described = ip.run_line_magic("pv", f"info {pv.address}")
        text = ip.display_formatter.format(described)[0]["text/plain"]
    finally:
        sub.close()
        pv.remove()
    assert "slow callbacks" in text and "1 on a thread of their own" in text, text
