"""Acceptance 5: one upstream subscription fans out to many local subscribers, each
with its own bounded queue; idle channels are swept."""

from __future__ import annotations

import threading
import time

import pytest

import ctlshell
from ctlshell import KeepLast
from ctlshell.api import session


def server_subscriptions(pv_name: str) -> int:
    """Subscriptions the in-process CA server holds for one PV (counted server side)."""
    ctx = session().ca_server()._ctx
    return sum(len(subs) for spec, subs in ctx.subscriptions.items() if spec.db_entry.softpv.name == pv_name)


def test_fifty_subscribers_share_one_upstream_and_a_slow_one_delays_nobody(prefix):
    pv = ctlshell.host(prefix + "FAN", 0.0)
    addr = f"ca://{prefix}FAN"
    final = 20.0
    arrivals: dict[int, float] = {}
    fast_seen: dict[int, list[float]] = {i: [] for i in range(49)}
    lock = threading.Lock()

    def fast(i):
        def cb(reading):
            fast_seen[i].append(reading.value)
            if reading.value == final:
                with lock:
                    arrivals[i] = time.monotonic()
        return cb

    slow_seen = []

    def slow(reading):
        slow_seen.append(reading.value)
        time.sleep(0.25)

    subs = [ctlshell.monitor(addr, fast(i), policy=KeepLast(100)) for i in range(49)]
    slow_sub = ctlshell.monitor(addr, slow)  # keep latest only
    try:
        deadline = time.monotonic() + 5
        while server_subscriptions(pv.name) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server_subscriptions(pv.name) == 1
        status = [s for s in ctlshell.status() if s.address == addr][0]
        assert status.users == 50

        time.sleep(0.3)
        for v in range(1, int(final) + 1):
            pv.value = float(v)
            time.sleep(0.02)
        published = time.monotonic()
        deadline = published + 10
        while len(arrivals) < 49 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(arrivals) == 49, "every fast subscriber gets the final value"
        # a subscriber that held the others up would cost them 20 x 0.25 s = 5 s
        assert max(arrivals.values()) - published < 2.5, "the sleeping subscriber held the others up"
        assert all(seen[-1] == final and len(seen) >= 15 for seen in fast_seen.values())
        assert all(s.dropped == 0 for s in subs)

        deadline = time.monotonic() + 10
        while (not slow_seen or slow_seen[-1] != final) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow_seen[-1] == final, "the slow subscriber still ends on the newest value"
        assert slow_sub.dropped > 0 and len(slow_seen) < 15
        assert slow_sub.delivered + slow_sub.dropped + slow_sub.pending == slow_sub.received
    finally:
        for s in subs:
            s.close()
        slow_sub.close()
        pv.remove()
    deadline = time.monotonic() + 5
    while server_subscriptions(pv.name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server_subscriptions(pv.name) == 0, "the upstream subscription closes after the last user"


def test_sweep_drops_idle_unused_channels_and_keeps_used_ones(prefix):
    idle = ctlshell.host(prefix + "IDLE", 1.0)
    used = ctlshell.host(prefix + "USED", 2.0)
    old = session().config.sweep_period
    ctlshell.configure(sweep_period=0.3)
    try:
        ctlshell.get(f"ca://{prefix}IDLE")
        sub = ctlshell.monitor(f"ca://{prefix}USED", lambda r: None)
        addresses = lambda: {s.address for s in ctlshell.status()}  # noqa: E731
        assert f"ca://{prefix}IDLE" in addresses()
        deadline = time.monotonic() + 5
        while f"ca://{prefix}IDLE" in addresses() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"ca://{prefix}IDLE" not in addresses()
        assert f"ca://{prefix}USED" in addresses()
        sub.close()
        deadline = time.monotonic() + 5
        while f"ca://{prefix}USED" in addresses() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"ca://{prefix}USED" not in addresses(), "dropped once its last user left"
        # a swept channel works again on next use
        assert ctlshell.get(f"ca://{prefix}IDLE").value == 1.0
    finally:
        ctlshell.configure(sweep_period=old)
        idle.remove()
        used.remove()


@pytest.mark.parametrize("policy", [0, -1, "fastest", 2.5])
def test_bad_policy_is_refused(prefix, policy):
    with pytest.raises(ctlshell.ValidationError):
        ctlshell.monitor(f"local://{prefix}X", print, policy=policy)
