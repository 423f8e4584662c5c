"""Unit tests for ctlshell.core._runtime: the loop thread and its bridges."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import Iterator

import pytest

from ctlshell.core import ChannelTimeoutError, Runtime, RuntimeClosedError, RuntimeDeadlockError


@pytest.fixture
def rt() -> Iterator[Runtime]:
    runtime = Runtime(NAME)
    yield runtime
    runtime.shutdown()


# The unit runtimes get a name of their own: a session runtime (named "ctlshell-runtime")
# may be alive when the whole suite runs.
NAME = "ctlshell-runtime-unit"


def runtime_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == NAME]


async def answer(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


def test_call_returns_result_from_named_thread(rt: Runtime) -> None:
    assert not rt.started
    assert rt.call(answer(21)) == 42
    assert rt.started

    async def where() -> str:
        return threading.current_thread().name

    assert rt.call(where()) == NAME
    assert not rt.in_loop_thread()


def test_call_propagates_exceptions(rt: Runtime) -> None:
    async def fail() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        rt.call(fail())


def test_call_times_out_and_cancels_coroutine(rt: Runtime) -> None:
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(ChannelTimeoutError, match=r"^get BL:X did not finish within 0.05 s$") as exc:
        rt.call(slow(), timeout=0.05, what="get BL:X")
    assert isinstance(exc.value, TimeoutError)
    assert cancelled.wait(2.0)


def test_timeout_message_without_what(rt: Runtime) -> None:
    with pytest.raises(ChannelTimeoutError, match="operation did not finish within 0.01 s"):
        rt.call(asyncio.sleep(5), timeout=0.01)


def test_coroutines_own_timeout_error_is_kept(rt: Runtime) -> None:
    async def own() -> None:
        raise ChannelTimeoutError("ca://X did not connect within 1.0 s")

    with pytest.raises(ChannelTimeoutError, match="^ca://X did not connect within 1.0 s$"):
        rt.call(own(), timeout=5.0)


def test_loop_keeps_running_while_caller_blocks(rt: Runtime) -> None:
    """While a caller blocks in call(), the coroutine runs on the loop thread and the loop
    goes on running other tasks: a ticker started before keeps ticking during the wait."""
    ticks: list[str] = []

    async def ticker() -> None:
        while True:
            ticks.append(threading.current_thread().name)
            await asyncio.sleep(0.01)

    async def blocked() -> tuple[int, int, bool]:
        before = len(ticks)
        await asyncio.sleep(0.3)
        return before, len(ticks), rt.in_loop_thread()

    task = rt.submit(ticker())
    try:
        wait = time.monotonic()
        before, after, on_loop = rt.call(blocked(), timeout=30)
        assert time.monotonic() - wait >= 0.3  # the caller did block for the whole coroutine
    finally:
        task.cancel()
    assert on_loop, "call() ran the coroutine off the runtime's loop thread"
    assert after > before, "nothing else ran on the loop while the caller was blocked"
    assert set(ticks) == {NAME}  # the ticker, too, ran on the runtime's named thread


def test_call_from_loop_thread_raises_instead_of_deadlocking(rt: Runtime) -> None:
    inner_state: list[str] = []

    def blocking_helper() -> int:  # a plain function a user might call from a callback
        coro = answer(1)
        try:
            return rt.call(coro, timeout=1.0)
        finally:
            inner_state.append(inspect.getcoroutinestate(coro))

    async def outer() -> int:
        assert rt.in_loop_thread()
        return blocking_helper()

    with pytest.raises(RuntimeDeadlockError, match="blocking ctlshell call was made on the runtime thread"):
        rt.call(outer(), timeout=2.0)
    assert inner_state == ["CORO_CLOSED"]  # closed, so no "never awaited" warning
    assert rt.call(answer(2)) == 4  # the runtime is still usable


def test_call_soon_from_other_thread_and_from_loop(rt: Runtime) -> None:
    done = threading.Event()
    seen: list[str] = []

    def on_loop(tag: str) -> None:
        seen.append(tag)
        if tag == "outer":
            rt.call_soon(on_loop, "inner")
        else:
            done.set()

    rt.call_soon(on_loop, "outer")
    assert done.wait(2.0)
    assert seen == ["outer", "inner"]


def test_shutdown_joins_thread_and_is_idempotent() -> None:
    rt = Runtime(NAME)
    rt.call(answer(1))
    assert len(runtime_threads()) == 1
    thread = rt._thread
    loop = rt.loop
    rt.shutdown()
    rt.shutdown()
    assert rt.closed and not rt.started
    assert thread is not None and not thread.is_alive()
    assert runtime_threads() == []
    assert loop.is_closed()


def test_shutdown_before_start_creates_no_thread() -> None:
    rt = Runtime(NAME)
    rt.shutdown()
    assert rt.closed
    assert runtime_threads() == []
    with pytest.raises(RuntimeClosedError):
        rt.loop


def test_use_after_shutdown_raises_closed() -> None:
    rt = Runtime(NAME)
    rt.call(answer(1))
    rt.shutdown()
    with pytest.raises(RuntimeClosedError, match="has been shut down"):
        rt.loop
    with pytest.raises(RuntimeClosedError):
        rt.call_soon(print)
    coro = answer(1)
    try:
        with pytest.raises(RuntimeClosedError):
            rt.call(coro)
    finally:
        coro.close()
    assert isinstance(RuntimeClosedError("x"), RuntimeError)


def test_call_after_shutdown_closes_the_coroutine() -> None:
    rt = Runtime(NAME)
    rt.shutdown()
    coro = answer(1)
    try:
        with pytest.raises(RuntimeClosedError):
            rt.call(coro)
        assert inspect.getcoroutinestate(coro) == "CORO_CLOSED"
    finally:
        coro.close()


def test_shutdown_runs_hooks_in_reverse_and_cancels_tasks(caplog: pytest.LogCaptureFixture) -> None:
    rt = Runtime(NAME)
    order: list[str] = []
    cancelled = threading.Event()

    def hook(tag: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            order.append(tag)
            if tag == "bad":
                raise RuntimeError("hook failed")
        return run

    async def forever() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    rt.on_shutdown(hook("first"))
    rt.on_shutdown(hook("bad"))
    rt.on_shutdown(hook("last"))
    fut = rt.submit(forever())
    with caplog.at_level(logging.ERROR, logger="ctlshell.core._runtime"):
        rt.shutdown()
    assert order == ["last", "bad", "first"]  # a failing hook does not stop the others
    assert cancelled.is_set()
    assert fut.cancelled()
    assert runtime_threads() == []
    assert any("shutdown hook" in r.getMessage() for r in caplog.records)


def test_shutdown_from_loop_thread_raises() -> None:
    rt = Runtime(NAME)
    loop = rt.loop
    thread = rt._thread
    assert thread is not None

    async def stop_from_inside() -> None:
        rt.shutdown()

    try:
        with pytest.raises(RuntimeDeadlockError, match="shutdown"):
            rt.call(stop_from_inside(), timeout=2.0)
    finally:  # the runtime is now marked closed; stop the loop by hand
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(2.0)
        if not loop.is_closed():
            loop.close()


def test_shutdown_after_refused_shutdown_from_loop_still_stops_thread() -> None:
    rt = Runtime(NAME)
    loop = rt.loop
    thread = rt._thread
    assert thread is not None

    async def stop_from_inside() -> None:
        rt.shutdown()

    try:
        with pytest.raises(RuntimeDeadlockError):
            rt.call(stop_from_inside(), timeout=2.0)
        rt.shutdown()
        assert not thread.is_alive()
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(2.0)
        if not loop.is_closed():
            loop.close()
