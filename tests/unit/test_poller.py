"""Unit tests for ctlshell.host._poller: a drift-free periodic call on its own thread.

Timing checks hold on a loaded 2-core machine (CI, or `make test-stress`): a call is
never early (a sleep never ends early, whatever the load), counts have upper bounds
(a poller never calls more often than its grid allows), and where lateness matters the
check is a median over many ticks against a bound several times what a wrong design
would show (a drifting loop is periods late after 40 ticks, a good one milliseconds).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator

import pytest

from ctlshell.host._poller import Poller
from ..waiting import wait_for


class Ticks:
    """An fn that records when it was called and which tick of the grid it was."""

    def __init__(self, work: float = 0.0, slow: dict[int, float] | None = None) -> None:
        self.poller: Poller | None = None
        self.times: list[float] = []
        self.index: list[int] = []
        self.work = work
        self.slow = slow or {}

    def __call__(self) -> None:
        now = time.monotonic()
        p = self.poller
        n = (p.calls + p.skipped + 1) if p is not None else 1  # the grid tick this call is for
        self.times.append(now)
        self.index.append(n)
        pause = self.slow.get(len(self.times), self.work)
        if pause:
            time.sleep(pause)


@pytest.fixture
def pollers() -> Iterator[list[Poller]]:
    made: list[Poller] = []
    yield made
    for p in made:
        p.stop()


def start(pollers: list[Poller], ticks: Ticks, period: float, **kw: object) -> tuple[Poller, float]:
    t0 = time.monotonic()
    p = Poller(ticks, period, "test-poller", **kw)  # type: ignore[arg-type]
    ticks.poller = p
    pollers.append(p)
    return p, t0


def test_calls_fall_on_the_grid_without_drift(pollers: list[Poller]) -> None:
    """Each call takes a quarter period: a sleep-after-call loop would be 10 periods late
    after 40 ticks; on the grid the lateness stays what the scheduler adds to one wake."""
    period = 0.02
    ticks = Ticks(work=period / 4)
    p, t0 = start(pollers, ticks, period)
    wait_for(lambda: len(ticks.times) >= 40, timeout=30.0)
    p.stop()
    times, index = ticks.times[:40], ticks.index[:40]
    # the poller's own start (its thread may begin a little after t0): the least late tick
    origin = min(t - n * period for t, n in zip(times, index))
    assert origin > t0 - 0.001, "a call came before its tick"
    late = [t - (origin + n * period) for t, n in zip(times, index)]
    # not accumulating: the median lateness of the last ten ticks is under 2 periods
    # (a drifting loop: 7.5 periods and more)
    assert sorted(late[-10:])[5] < 2 * period, f"lateness grew to {late[-10:]}"
    mean = (times[-1] - times[0]) / (index[-1] - index[0])
    assert abs(mean - period) < 0.5 * period


def test_mean_interval_and_count(pollers: list[Poller]) -> None:
    period = 0.01
    ticks = Ticks()
    p, _ = start(pollers, ticks, period)
    wait_for(lambda: len(ticks.times) >= 30, timeout=30.0)
    p.stop()
    # per grid tick (a tick skipped under load counts): the mean spacing is the period
    mean = (ticks.times[29] - ticks.times[0]) / (ticks.index[29] - ticks.index[0])
    assert abs(mean - period) < 0.5 * period
    # and never more calls than ticks since the start (an upper bound holds under any load)
    assert len(ticks.times) <= (ticks.times[-1] - ticks.times[0]) / period + 2
    assert p.calls >= 30
    assert p.period == period


def test_first_call_waits_one_period(pollers: list[Poller]) -> None:
    ticks = Ticks()
    _, t0 = start(pollers, ticks, 0.2)
    wait_for(lambda: len(ticks.times) == 1, timeout=10.0)
    assert ticks.times[0] - t0 > 0.2 * 0.95  # never early, whatever the load


def test_changing_period_takes_effect_at_once(pollers: list[Poller]) -> None:
    """From a 10 s period to 20 ms: calls start now, not after the old 10 s tick."""
    ticks = Ticks()
    p, _ = start(pollers, ticks, 10.0)
    time.sleep(0.05)
    assert ticks.times == []
    changed = time.monotonic()
    p.period = 0.02
    assert p.period == 0.02
    wait_for(lambda: len(ticks.times) >= 21, timeout=9.0)  # before the old 10 s tick
    p.stop()
    assert ticks.times[0] - changed < 5.0  # not after the old 10 s tick
    mean = (ticks.times[20] - ticks.times[0]) / (ticks.index[20] - ticks.index[0])
    assert abs(mean - 0.02) < 0.5 * 0.02


def test_slowing_down(pollers: list[Poller]) -> None:
    ticks = Ticks()
    p, _ = start(pollers, ticks, 0.01)
    wait_for(lambda: len(ticks.times) >= 5)
    p.period = 0.05
    before, t = len(ticks.times), time.monotonic()
    time.sleep(1.0)
    p.stop()
    elapsed = time.monotonic() - t
    after = len(ticks.times) - before
    # at most one call per 50 ms tick (at 10 ms it would be 100): an upper bound, load-proof
    assert 2 <= after <= elapsed / 0.05 + 2, f"{after} calls in {elapsed:.2f} s at a 50 ms period"


def test_stop(pollers: list[Poller]) -> None:
    ticks = Ticks()
    p, _ = start(pollers, ticks, 0.01)
    wait_for(lambda: len(ticks.times) >= 3)
    assert p.running
    p.stop()
    assert not p.running
    n = len(ticks.times)
    time.sleep(0.05)
    assert len(ticks.times) == n
    assert p.calls == n
    p.stop()  # idempotent
    assert not p.running
    assert "test-poller" not in {t.name for t in threading.enumerate()}


def test_stop_while_waiting_a_long_period_is_prompt(pollers: list[Poller]) -> None:
    ticks = Ticks()
    p, _ = start(pollers, ticks, 30.0)
    t = time.monotonic()
    p.stop(wait=10.0)
    assert time.monotonic() - t < 5.0  # not the 30 s period
    assert not p.running and ticks.times == []


def test_stop_from_inside_fn(pollers: list[Poller]) -> None:
    done = threading.Event()
    ready = threading.Event()
    holder: list[Poller] = []

    def fn() -> None:
        ready.wait(2.0)
        holder[0].stop()
        done.set()

    p = Poller(fn, 0.01, "test-poller")
    holder.append(p)
    ready.set()
    pollers.append(p)
    assert done.wait(2.0)
    wait_for(lambda: not p._thread.is_alive())
    assert p.calls == 1


@pytest.mark.parametrize("bad", [0, 0.0, -1, -0.01, math.nan, math.inf])
def test_bad_period_is_refused(bad: float, pollers: list[Poller]) -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        Poller(lambda: None, bad, "refused-poller")
    assert "refused-poller" not in {t.name for t in threading.enumerate()}  # no thread started
    p = Poller(lambda: None, 1.0, "test-poller")
    pollers.append(p)
    with pytest.raises(ValueError, match="positive number of seconds"):
        p.period = bad
    assert p.period == 1.0
    assert p.running


def test_fn_that_raises_goes_to_on_error_and_polling_continues(pollers: list[Poller]) -> None:
    errors: list[BaseException] = []
    count = [0]

    def fn() -> None:
        count[0] += 1
        if count[0] % 2:
            raise RuntimeError(f"boom {count[0]}")

    p = Poller(fn, 0.01, "test-poller", on_error=errors.append)
    pollers.append(p)
    wait_for(lambda: count[0] >= 6)
    p.stop()
    assert count[0] >= 6
    assert all(isinstance(e, RuntimeError) for e in errors)
    assert [str(e) for e in errors[:3]] == ["boom 1", "boom 3", "boom 5"]
    assert p.calls == count[0]


def test_fn_that_raises_without_on_error_is_logged(pollers: list[Poller],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    count = [0]

    def fn() -> None:
        count[0] += 1
        raise KeyError("nope")

    with caplog.at_level(logging.ERROR, logger="ctlshell.host._poller"):
        p = Poller(fn, 0.01, "test-poller")
        pollers.append(p)
        wait_for(lambda: count[0] >= 3)
        p.stop()
    failures = [r for r in caplog.records if "test-poller" in r.getMessage()]
    assert len(failures) >= 3
    assert failures[0].exc_info is not None and failures[0].exc_info[0] is KeyError


def test_overrun_skips_ticks_instead_of_bunching(pollers: list[Poller]) -> None:
    """The 6th call takes ~5.5 periods: the ticks it covered are skipped, not run back to back."""
    period = 0.05
    ticks = Ticks(slow={6: 5.5 * period})
    p, _ = start(pollers, ticks, period)
    wait_for(lambda: len(ticks.times) >= 16, timeout=30.0)
    p.stop()
    assert p.skipped >= 4
    assert ticks.index[6] - ticks.index[5] >= 5  # the call after the overrun is for a later tick
    # on the grid at most two calls fit in one period (an upper bound: load only delays
    # calls); a catch-up loop would run the five missed ticks back to back at once
    after = ticks.times[5:16]
    spans = [c - a for a, c in zip(after, after[2:])]
    assert sorted(spans)[len(spans) // 2] > period, f"calls bunched after the overrun: {spans}"
    # the calls after the overrun are back on the old grid, not on a new one from its end
    # (which is half a period off it): the least late of ten is within 30 % of a period
    origin = min(t - n * period for t, n in zip(ticks.times[:6], ticks.index[:6]))
    late = [t - (origin + n * period) for t, n in zip(ticks.times[6:16], ticks.index[6:16])]
    assert -0.3 * period < min(late) < 0.3 * period, late


def test_always_overrunning_fn(pollers: list[Poller]) -> None:
    """A call of 2.5 periods runs every 3rd tick, skipping (at least) two each time."""
    period = 0.04
    ticks = Ticks(work=2.5 * period)
    p, _ = start(pollers, ticks, period)
    wait_for(lambda: len(ticks.times) >= 10, timeout=30.0)
    p.stop()
    # back to back the gap would be 2.5 periods, on the grid 3: the median of nine
    gaps = sorted(b - a for a, b in zip(ticks.times[:10], ticks.times[1:10]))
    assert gaps[len(gaps) // 2] > 2.75 * period, f"calls bunched: {gaps}"
    assert p.skipped >= 2 * (p.calls - 1)
