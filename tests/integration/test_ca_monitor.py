"""The CA backend's own monitor (ctlshell/backends/ca/_monitor.py) against a caproto
IOC in a subprocess, driven on a loop of the test's own (aioca keeps a channel cache
per loop): every update arrives, in order, on libca's thread, decoded as a batch read
decodes it; none arrives after close(); a purge of aioca's channels closes it; an IOC
that goes away is reported once and its PV is followed again when it comes back."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
import time
from typing import Any

import aioca
from epicscorelibs.ca import cadef

from ctlshell.backends.ca import _dbr, _monitor

from .conftest import caproto_example


def _purge_this_loop() -> None:
    """Clear aioca's channels of the running loop only (``aioca.purge_channel_caches``
    clears every loop's, the session's anchor channel included: ADR 0028)."""
    from aioca._catools import _Context

    cache = _Context._channel_caches.pop(asyncio.get_running_loop(), None)
    if cache is not None:
        cache.purge()


async def _until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def _monitoring(name: str) -> AsyncIterator[_Seen]:
    """A monitor of ``name`` that has its first value; closed, and this loop's
    channels purged, at the end."""
    seen = _Seen()
    m = _monitor.Monitor(name, seen)
    try:
        await _until(lambda: seen.values, 10, "the first value")
        yield seen
    finally:
        m.close()
        _purge_this_loop()


class _Seen:
    def __init__(self) -> None:
        self.values: list[Any] = []
        self.threads: set[int] = set()
        self.lock = threading.Lock()

    def __call__(self, value: Any) -> None:
        with self.lock:
            self.values.append(value)
            self.threads.add(threading.get_ident())


def test_updates_in_order_on_libcas_thread_and_none_after_close(ioc, prefix):
    ioc(*caproto_example("simple", prefix))
    b, c = f"{prefix}B", f"{prefix}C"

    async def scenario() -> tuple[_Seen, _Seen, int, int, int]:
        loop_thread = threading.get_ident()
        scalar, array = _Seen(), _Seen()
        m_b = _monitor.Monitor(b, scalar)
        m_c = _monitor.Monitor(c, array)
        await _until(lambda: scalar.values and array.values, 10, "first values")
        for k in range(1, 41):
            await aioca.caput(b, float(k), wait=True, timeout=5)
        await _until(lambda: scalar.values[-1].value == 40.0, 10, "the 40th update")
        await aioca.caput(c, [7, 8, 9], wait=True, timeout=5)
        await _until(lambda: len(array.values) >= 2, 10, "the array's update")
        listeners = m_b.channel.count_subscriptions()
        m_b.close()
        after_close = len(scalar.values)
        await aioca.caput(b, 99.0, wait=True, timeout=5)
        await asyncio.sleep(0.5)
        assert loop_thread not in scalar.threads | array.threads, "an update came through the loop"
        left = m_b.channel.count_subscriptions()
        assert m_c.channel.count_subscriptions() == 1
        _purge_this_loop()  # closes m_c (aioca's purge closes each listener first)
        before_purge = len(array.values)
        await aioca.caput(c, [4, 4, 4], wait=True, timeout=5)  # on a new channel of aioca's
        await asyncio.sleep(0.5)
        assert len(array.values) == before_purge, "an update reached a purged channel's monitor"
        _purge_this_loop()
        return scalar, array, after_close, listeners, left

    scalar, array, after_close, listeners, left = asyncio.run(scenario())
    values = [v.value for v in scalar.values]
    assert values[0] == 2.0 and values[-40:] == [float(k) for k in range(1, 41)], values
    assert all(type(v) is _dbr.Time for v in scalar.values)
    assert len(scalar.values) == after_close, "an update reached the receiver after close()"
    assert (listeners, left) == (1, 0)
    first, last = array.values[0], array.values[-1]
    assert list(first) == [1, 2, 3] and list(last) == [7, 8, 9]
    assert hasattr(last, "timestamp") and last.ok


def test_a_lost_ioc_is_reported_once_and_followed_when_it_returns(ioc, prefix):
    proc = ioc(*caproto_example("simple", prefix))
    b = f"{prefix}B"

    async def scenario() -> list[Any]:
        async with _monitoring(b) as seen:
            proc.stop()
            await _until(lambda: not getattr(seen.values[-1], "ok", True), 10, "the disconnection")
            await asyncio.to_thread(proc.start)
            await _until(lambda: seen.values[-1].__class__ is _dbr.Time, 20, "a value after the restart")
            await aioca.caput(b, 4.5, wait=True, timeout=5)
            await _until(lambda: seen.values[-1].value == 4.5, 10, "an update after the restart")
        return seen.values

    values = asyncio.run(scenario())
    lost = [v for v in values if isinstance(v, aioca.CANothing)]
    assert len(lost) == 1 and lost[0].errorcode == cadef.ECA_DISCONN and lost[0].name == b
    assert values.index(lost[0]) > 0 and values[-1].value == 4.5


def test_a_monitor_of_a_name_nobody_serves_waits_and_closes_cleanly(prefix):
    name = f"{prefix}NOWHERE"

    async def scenario() -> tuple[int, int, list[Any]]:
        seen = _Seen()
        m = _monitor.Monitor(name, seen)
        during = m.channel.count_subscriptions()
        await asyncio.sleep(0.3)
        m.close()
        m.close()  # twice is harmless
        after = m.channel.count_subscriptions()
        _purge_this_loop()
        return during, after, seen.values

    assert asyncio.run(scenario()) == (1, 0, [])


def test_libcas_thread_keeps_its_python_state_across_callbacks(ioc, prefix, monkeypatch):
    """ctlshell's libca callbacks keep their thread's Python state (_thread_state): a
    state is made once per libca thread, not once per update."""
    from ctlshell.backends.ca import _thread_state

    made = []
    real = _thread_state._ensure

    def counting() -> int:
        made.append(threading.get_ident())
        return int(real())

    monkeypatch.setattr(_thread_state, "_ensure", counting)
    ioc(*caproto_example("simple", prefix))
    b = f"{prefix}B"

    async def scenario() -> list[Any]:
        async with _monitoring(b) as seen:
            for k in range(1, 101):
                await aioca.caput(b, float(k), wait=True, timeout=5)
            await _until(lambda: seen.values[-1].value == 100.0, 10, "the 100th update")
        return seen.values

    values = asyncio.run(scenario())
    assert len(values) >= 100
    assert 1 <= len(made) <= 3 and len(set(made)) == len(made), made  # once per thread


def test_a_flush_left_due_by_a_loop_that_ended_does_not_hold_back_the_next():
    ended = asyncio.new_event_loop()
    ended.close()
    _monitor._Flusher.due_on = ended  # a session whose loop stopped before its flush ran

    async def scenario() -> tuple[bool, bool]:
        _monitor._Flusher.soon()
        due_here = _monitor._Flusher.due_on is asyncio.get_running_loop()
        await asyncio.sleep(0)  # the flush runs
        return due_here, _monitor._Flusher.due_on is None

    assert asyncio.run(scenario()) == (True, True)
