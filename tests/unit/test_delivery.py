"""Unit tests for ctlshell.core._delivery: the shared pool behind every Subscription."""

from __future__ import annotations

import threading
import time

import pytest

from ctlshell.core import KeepLast, KeepLatest, Reading, Subscription
from ctlshell.core import _delivery
from ..waiting import wait_for


def r(v: object) -> Reading:
    return Reading("local://X", v)


def balanced(sub: Subscription) -> bool:
    return sub.received == sub.delivered + sub.dropped + sub.pending


def test_a_thousand_subscriptions_share_the_pool_and_keep_their_order() -> None:
    got: dict[int, list[int]] = {i: [] for i in range(1000)}
    before = threading.active_count()
    subs = [Subscription(f"local://S{i}", (lambda i: lambda rd: got[i].append(rd.value))(i), KeepLast(50))
            for i in range(1000)]
    try:
        for k in range(20):
            for s in subs:
                s.offer(r(k))
        wait_for(lambda: all(len(v) == 20 for v in got.values()), 20, "every reading")
        assert all(v == list(range(20)) for v in got.values())
        assert threading.active_count() - before <= _delivery.WORKERS + 1
        assert all(balanced(s) and s.calls == 20 for s in subs)
    finally:
        for s in subs:
            s.close()


def test_more_blocked_callbacks_than_workers_still_delay_nobody_else() -> None:
    release = threading.Event()
    entered = threading.Semaphore(0)

    def blocked(rd: Reading) -> None:
        entered.release()
        release.wait(10)

    stuck = [Subscription(f"local://B{i}", blocked, KeepLatest()) for i in range(_delivery.WORKERS + 2)]
    fast: list[object] = []
    quick = Subscription("local://F", lambda rd: fast.append(rd.value), KeepLast(100))
    try:
        for s in stuck:
            s.offer(r(0))
        for _ in stuck[:_delivery.WORKERS]:
            assert entered.acquire(timeout=5)  # every shared worker is inside a blocked callback
        for i in range(10):
            quick.offer(r(i))
        wait_for(lambda: len(fast) == 10, 3, "the fast subscriber's readings")
        assert fast == list(range(10))
        wait_for(lambda: all(s.moved for s in stuck), 5, "every blocked one moved off")
        assert all(s.moves == 1 for s in stuck)
    finally:
        release.set()
        for s in stuck + [quick]:
            s.close()
    wait_for(lambda: _delivery.pool().dedicated() == 0, 5, "the dedicated threads to end after close")


def test_a_moved_subscription_comes_back_to_the_pool_when_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_delivery, "GIVE_BACK_AFTER", 0.2)
    got: list[object] = []
    threads: list[str] = []

    def cb(rd: Reading) -> None:
        got.append(rd.value)
        threads.append(threading.current_thread().name)
        if rd.value == 0:
            time.sleep(0.3)  # blocks once: moved off

    sub = Subscription("local://X", cb, KeepLast(100))
    try:
        sub.offer(r(0))
        wait_for(lambda: sub.moved, 2, "the move")
        sub.offer(r(1))
        wait_for(lambda: got == [0, 1], 2)
        wait_for(lambda: not sub.moved, 3, "the give-back")
        for i in range(2, 20):
            sub.offer(r(i))
        wait_for(lambda: len(got) == 20, 2)
        assert got == list(range(20))
        assert sub.moves == 1 and sub.slowest >= 0.3 and balanced(sub)
    finally:
        sub.close()


def test_offers_from_several_threads_keep_the_counters_balanced() -> None:
    got: list[object] = []
    sub = Subscription("local://X", lambda rd: got.append(rd.value), KeepLast(3))

    def flood(base: int) -> None:
        for i in range(2000):
            sub.offer(r(base + i))

    offerers = [threading.Thread(target=flood, args=(k * 10_000,)) for k in range(4)]
    for t in offerers:
        t.start()
    for t in offerers:
        t.join()
    wait_for(lambda: sub.pending == 0, 5)
    assert sub.received == 8000 and balanced(sub)
    assert sub.delivered == len(got)
    for k in range(4):  # each offering thread's readings arrive in the order it offered them
        mine = [v for v in got if k * 10_000 <= v < (k + 1) * 10_000]
        assert mine == sorted(mine)
    sub.close()
