"""The threads that run daemons' and devices' blocking hooks (``host/_workers.py``)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ctlshell.host._workers import Busy, Workers


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_a_job_runs_on_a_worker_thread_and_its_result_or_error_comes_back():
    workers = Workers(2, "t-workers")

    async def main():
        name = await workers.run(lambda: threading.current_thread().name)
        assert name == "t-workers_0"
        assert await workers.run(pow, 2, 10) == 1024
        with pytest.raises(ZeroDivisionError):
            await workers.run(lambda: 1 / 0)
        with pytest.raises(RuntimeError, match="StopIteration"):  # a future cannot hold StopIteration
            await workers.run(next, iter(()))

    try:
        run(main())
        assert workers.threads() == 1  # sequential jobs found the first thread idle
    finally:
        workers.shutdown()


def test_jobs_run_side_by_side_up_to_the_size_and_no_more():
    size = 3
    workers = Workers(size, "t-side")
    running = []
    lock = threading.Lock()
    all_in = threading.Barrier(size, timeout=10)
    peak = [0]

    def job():
        with lock:
            running.append(1)
            peak[0] = max(peak[0], len(running))
        all_in.wait()  # only passes when `size` jobs run at once
        with lock:
            running.pop()

    async def main():
        await asyncio.gather(*(workers.run(job) for _ in range(4 * size)))

    try:
        run(main())
        assert peak[0] == size and workers.threads() == size
    finally:
        workers.shutdown()


def test_a_waiter_that_gives_up_leaves_the_job_running_and_nothing_broken():
    workers = Workers(1, "t-cancel")
    release = threading.Event()
    finished = threading.Event()

    def slow():
        release.wait(10)
        finished.set()
        return "late"

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(workers.run(slow), 0.05)
        release.set()
        assert await workers.run(lambda: "next") == "next"  # the thread is free again

    try:
        run(main())
        assert finished.is_set()
    finally:
        workers.shutdown()


def test_shutdown_cancels_what_has_not_started_ends_the_threads_and_refuses_more():
    workers = Workers(1, "t-stop")
    started = threading.Event()
    release = threading.Event()

    def blocker():
        started.set()
        release.wait(10)
        return "done"

    async def main():
        first = workers.run(blocker)
        queued = workers.run(lambda: "never")
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        workers.shutdown()
        release.set()
        assert await first == "done"  # what had started finishes
        with pytest.raises(asyncio.CancelledError):
            await queued
        with pytest.raises(RuntimeError, match="stopped"):
            workers.run(lambda: None)

    run(main())
    for thread in threading.enumerate():
        if thread.name.startswith("t-stop_"):
            thread.join(10)
            assert not thread.is_alive()


def test_jobs_waiting_are_bounded_and_the_one_over_the_bound_is_refused():
    workers = Workers(1, "t-bound", max_queued=2)
    release = threading.Event()

    async def main():
        running = workers.run(release.wait, 10)
        waiting = [workers.run(lambda i=i: i) for i in range(2)]
        with pytest.raises(Busy, match="all 1 threads busy and 2 requests waiting"):
            workers.run(lambda: "over")
        release.set()
        assert await running is True and await asyncio.gather(*waiting) == [0, 1]
        assert await workers.run(lambda: "again") == "again"  # room once they ran

    try:
        run(main())
    finally:
        workers.shutdown()
