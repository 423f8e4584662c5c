"""Unit tests for ctlshell.core._fanout: policies and Subscription delivery."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

from ctlshell.core import (
    KeepLast,
    KeepLatest,
    Reading,
    Subscription,
    ValidationError,
    parse_policy,
)
from ..waiting import wait_for


def r(v: object) -> Reading:
    return Reading("local://X", v)


def balanced(sub: Subscription) -> bool:
    return sub.received == sub.delivered + sub.dropped + sub.pending


class Gate:
    """A callback that records values and blocks until released."""

    def __init__(self) -> None:
        self.values: list[object] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, reading: Reading) -> None:
        self.values.append(reading.value)
        self.entered.set()
        assert self.release.wait(5.0)


@pytest.fixture
def subs() -> Iterator[list[Subscription]]:
    made: list[Subscription] = []
    yield made
    for s in made:
        s.close()


# -- policies ------------------------------------------------------------------
def test_parse_policy() -> None:
    assert parse_policy("latest") == KeepLatest()
    assert parse_policy(None) == KeepLatest()
    assert parse_policy(5) == KeepLast(5)
    p = KeepLast(3)
    assert parse_policy(p) is p
    assert KeepLatest().size == 1 and KeepLast(7).size == 7
    assert str(KeepLatest()) == "latest" and str(KeepLast(4)) == "last 4"


@pytest.mark.parametrize("bad", ["oldest", 0, -1, True, 1.5, [1]])
def test_parse_policy_refuses(bad: object) -> None:
    with pytest.raises(ValidationError):
        parse_policy(bad)


@pytest.mark.parametrize("n", [0, -3, 1_000_001, 2.0, True, "5"])
def test_keep_last_bounds(n: object) -> None:
    with pytest.raises(ValidationError, match="KeepLast needs 1 <= n <= 1000000"):
        KeepLast(n)  # type: ignore[arg-type]
    assert KeepLast(1_000_000).n == 1_000_000


# -- delivery ------------------------------------------------------------------
def test_delivers_in_order_from_a_delivery_thread_never_the_offering_one(subs: list[Subscription]) -> None:
    got: list[object] = []
    threads: set[str] = set()

    def cb(reading: Reading) -> None:
        threads.add(threading.current_thread().name)
        got.append(reading.value)

    sub = Subscription("local://X", cb, KeepLast(100))
    subs.append(sub)
    for i in range(50):
        sub.offer(r(i))
    wait_for(lambda: len(got) == 50)
    assert got == list(range(50))
    assert threads and all(name.startswith("ctlshell-deliver-") for name in threads)
    assert threading.current_thread().name not in threads
    assert (sub.received, sub.delivered, sub.dropped, sub.pending) == (50, 50, 0, 0)
    assert sub.last is not None and sub.last.value == 49


def test_keep_latest_drops_all_but_newest_while_callback_is_busy(subs: list[Subscription]) -> None:
    gate = Gate()
    sub = Subscription("local://X", gate, KeepLatest())
    subs.append(sub)
    sub.offer(r(0))
    assert gate.entered.wait(2.0)
    for i in range(1, 6):
        sub.offer(r(i))
        assert balanced(sub)
    assert (sub.received, sub.delivered, sub.pending, sub.dropped) == (6, 1, 1, 4)
    gate.release.set()
    wait_for(lambda: sub.delivered == 2)
    assert gate.values == [0, 5]
    assert balanced(sub) and sub.dropped == 4


def test_keep_last_n_drops_oldest(subs: list[Subscription]) -> None:
    gate = Gate()
    sub = Subscription("local://X", gate, KeepLast(3))
    subs.append(sub)
    sub.offer(r(0))
    assert gate.entered.wait(2.0)
    for i in range(1, 8):
        sub.offer(r(i))
    assert (sub.pending, sub.dropped) == (3, 4)
    assert balanced(sub)
    gate.release.set()
    wait_for(lambda: sub.pending == 0 and sub.delivered == 4)
    assert gate.values == [0, 5, 6, 7]
    assert balanced(sub)


@pytest.mark.parametrize("n", [1, 64, 65, 500])  # both sides of the short queue's size (SMALL_QUEUE)
def test_keep_last_n_keeps_the_newest_n_in_order_at_any_size(subs: list[Subscription], n: int) -> None:
    gate = Gate()
    sub = Subscription("local://X", gate, KeepLast(n))
    subs.append(sub)
    sub.offer(r(-1))
    assert gate.entered.wait(2.0)
    for i in range(n + 10):
        sub.offer(r(i))
    assert (sub.pending, sub.dropped) == (n, 10)
    gate.release.set()
    wait_for(lambda: sub.pending == 0 and sub.delivered == n + 1)
    assert gate.values == [-1, *range(10, n + 10)]
    assert balanced(sub)


def test_raising_callback_does_not_stop_delivery(subs: list[Subscription],
                                                 caplog: pytest.LogCaptureFixture) -> None:
    got: list[object] = []

    def cb(reading: Reading) -> None:
        got.append(reading.value)
        if reading.value % 2:
            raise RuntimeError("boom")

    sub = Subscription("local://X", cb, KeepLast(10))
    subs.append(sub)
    with caplog.at_level(logging.ERROR, logger="ctlshell.core._fanout"):
        for i in range(6):
            sub.offer(r(i))
        wait_for(lambda: len(got) == 6)
        wait_for(lambda: sub.errors == 3)
    assert got == [0, 1, 2, 3, 4, 5]
    assert sub.delivered == 6
    assert not sub.closed
    assert any("monitor callback for local://X raised" in rec.getMessage() for rec in caplog.records)


def test_one_slow_subscriber_does_not_delay_another(subs: list[Subscription]) -> None:
    gate = Gate()
    fast: list[object] = []
    slow = Subscription("local://X", gate, KeepLatest())
    quick = Subscription("local://X", lambda rd: fast.append(rd.value), KeepLast(10))
    subs += [slow, quick]
    try:
        slow.offer(r(0))
        assert gate.entered.wait(2.0)
        quick.offer(r(0))
        for i in range(1, 5):
            slow.offer(r(i))
            quick.offer(r(i))
        wait_for(lambda: len(fast) == 5)
        assert gate.values == [0]
        assert fast == [0, 1, 2, 3, 4]
    finally:
        gate.release.set()


# -- closing -------------------------------------------------------------------
def test_close_is_idempotent_and_calls_on_close_once() -> None:
    closed: list[Subscription] = []
    sub = Subscription("local://CLOSE1", lambda rd: None, KeepLatest(), on_close=closed.append)
    sub.close()
    sub.close()
    assert sub.closed
    assert closed == [sub]


def test_offer_after_close_is_ignored() -> None:
    got: list[object] = []
    sub = Subscription("local://X", lambda rd: got.append(rd.value), KeepLatest())
    sub.close()
    sub.offer(r(1))
    assert (sub.received, sub.pending, sub.delivered) == (0, 0, 0)
    time.sleep(0.02)
    assert got == []


def test_close_waits_for_running_callback_and_drops_pending() -> None:
    gate = Gate()
    sub = Subscription("local://X", gate, KeepLast(5))
    sub.offer(r(0))
    assert gate.entered.wait(2.0)
    sub.offer(r(1))
    threading.Timer(0.05, gate.release.set).start()
    sub.close()
    assert gate.release.is_set()  # close returned only after the callback was let go
    assert gate.values == [0]  # the pending reading was never delivered
    assert sub.pending == 0


def test_invariant_holds_after_close_with_pending_readings() -> None:
    gate = Gate()
    sub = Subscription("local://X", gate, KeepLast(5))
    try:
        sub.offer(r(0))
        assert gate.entered.wait(2.0)
        sub.offer(r(1))
        sub.offer(r(2))
        threading.Timer(0.05, gate.release.set).start()
        sub.close()  # while the callback still holds reading 0
        assert balanced(sub)
    finally:
        gate.release.set()
        sub.close()


def test_close_from_inside_callback_does_not_deadlock() -> None:
    done = threading.Event()
    closed: list[Subscription] = []

    def cb(reading: Reading) -> None:
        sub.close()
        done.set()

    sub = Subscription("local://X", cb, KeepLatest(), on_close=closed.append)
    sub.offer(r(1))
    assert done.wait(2.0)
    assert sub.closed and closed == [sub]
    sub.offer(r(2))
    time.sleep(0.05)
    assert sub.delivered == 1


def test_context_manager_closes() -> None:
    closed: list[Subscription] = []
    with Subscription("local://X", lambda rd: None, KeepLatest(), on_close=closed.append) as sub:
        assert not sub.closed
        assert "open" in repr(sub)
    assert sub.closed and closed == [sub]
    assert repr(sub) == "<Subscription local://X closed, policy=latest, delivered=0, dropped=0>"


def test_concurrent_close_calls_on_close_once() -> None:
    calls: list[Subscription] = []
    sub = Subscription("local://X", lambda rd: None, KeepLatest(), on_close=calls.append)
    threads = [threading.Thread(target=sub.close) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [sub]
