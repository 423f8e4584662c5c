"""Synchronized functions of ctlshell.proxies on the real runtime: ``timeout=`` cancels
and raises TimeoutError, ``wait=False`` gives a Future, ``sleep`` takes time units and
is cancellable, ``background`` runs coroutines and plain functions."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time

import pint
import pytest

from ctlshell import ChannelTimeoutError, ValidationError
from ctlshell.karabo import background, sleep, unit


def test_sleep_takes_time_units_and_refuses_others() -> None:
    """200 ms is 0.2 s (not 200 s, not nothing); a plain number is seconds; the result comes back."""
    started = time.monotonic()
    assert sleep(200 * unit.ms) is None
    took = time.monotonic() - started
    assert 0.2 <= took < 10.0, f"sleep(200 ms) took {took:.3f} s"  # a sleep never ends early
    started = time.monotonic()
    assert sleep(0.1, "done") == "done"
    assert time.monotonic() - started >= 0.1
    with pytest.raises(pint.DimensionalityError):
        sleep(1 * unit.m)
    with pytest.raises(ValidationError):
        sleep(-1)


def test_timeout_cancels_the_work_and_raises_timeout_error() -> None:
    with pytest.raises(TimeoutError) as info:
        sleep(30, timeout=0.2)
    assert isinstance(info.value, ChannelTimeoutError)
    with pytest.raises(TimeoutError):
        sleep(30, timeout=200 * unit.ms)  # a time quantity as timeout


def test_future_wait_result_cancel_and_callbacks() -> None:
    called = threading.Event()
    seen: list[object] = []
    future = sleep(30, wait=False)
    future.add_done_callback(lambda f: (seen.append(f.cancelled()), called.set()))
    assert not future.done()
    assert future.cancel() and future.cancelled()
    with pytest.raises(concurrent.futures.CancelledError):
        future.wait()
    assert called.wait(10) and seen == [True]
    quick = sleep(0.01, wait=False)
    assert quick.wait(10) is None and quick.result() is None and quick.exception() is None and quick.done()


def test_background_runs_functions_and_coroutines_and_re_raises(caplog: pytest.LogCaptureFixture) -> None:
    assert background(lambda a, b: a * b, 6, 7).wait(10) == 42

    async def coro(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    assert background(coro, 1).wait(10) == 2
    assert background(coro(5)).wait(10) == 6

    def broken() -> None:
        raise RuntimeError("motor stalled")

    with caplog.at_level(logging.ERROR, logger="ctlshell.proxies._tasks"):
        failed = background(broken)
        with pytest.raises(RuntimeError, match="stalled"):
            failed.wait(10)
    assert isinstance(failed.exception(), RuntimeError)
    assert "error in background task" in caplog.text
    with pytest.raises(ValidationError):
        background(42)
