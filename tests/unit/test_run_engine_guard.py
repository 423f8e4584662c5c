"""An immediate pause during a move leaves no asyncio traceback (scans/_run_engine.py).

A real bluesky RunEngine, a movable whose ``set`` is a real ophyd-async ``AsyncStatus``
that ends only after the pause, and the RunEngine loop's own exception reporting
(asyncio's logger) as the witness. bluesky 1.16 cancels the wait's futures on the pause
and its status callback then sets a cancelled future's result: the plain RunEngine
logs ``InvalidStateError`` for it, ours logs nothing and the run resumes to its end.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
from bluesky import RunEngine
from bluesky import plan_stubs as bps
from bluesky.utils import RunEngineInterrupted
from ophyd_async.core import AsyncStatus

from ctlshell.scans._run_engine import GuardedRunEngine


class _HeldMover:
    """The least a bluesky Movable needs: a ``set`` that goes on until the test releases
    it (as a motor's move ends once the motor has stopped), ``stop`` a no-op."""

    name = "held"
    parent = None

    def __init__(self) -> None:
        self.position = 0.0
        self.release = threading.Event()

    def set(self, value: float) -> AsyncStatus:
        async def move() -> None:
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            self.position = value

        return AsyncStatus(move())

    def stop(self, success: bool = True) -> None:
        pass


def _plan(mover: _HeldMover):
    yield from bps.checkpoint()
    yield from bps.mv(mover, 1.0)
    yield from bps.checkpoint()
    yield from bps.mv(mover, 2.0)


def _pause_and_resume(RE: RunEngine) -> None:
    mover = _HeldMover()

    def pause_once_waiting(statuses: object) -> None:
        # the RunEngine calls this as its wait for the move begins (on its own loop)
        if statuses is not None and not mover.release.is_set():
            threading.Thread(target=RE.request_pause, kwargs={"defer": False}).start()

    RE.waiting_hook = pause_once_waiting
    with pytest.raises(RunEngineInterrupted):
        RE(_plan(mover))
    assert RE.state == "paused"
    mover.release.set()  # the first move's status ends while the run is paused
    time.sleep(0.5)  # its callback runs on the RunEngine's loop, which is idle now
    RE.resume()
    assert RE.state == "idle" and mover.position == 2.0


def _invalid_state_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() + repr(r.exc_info) for r in caplog.records
            if r.exc_info and isinstance(r.exc_info[1], asyncio.InvalidStateError)]


def test_a_status_that_ends_after_an_immediate_pause_leaves_no_traceback(caplog):
    caplog.set_level(logging.ERROR, logger="asyncio")
    _pause_and_resume(GuardedRunEngine(context_managers=[]))
    assert _invalid_state_records(caplog) == []


def test_the_guard_is_still_needed_or_bluesky_fixed_it(caplog):
    """Tells us when the guard can go: the plain RunEngine of the installed bluesky
    either logs the error (the guard is needed) or bluesky no longer cancels the
    futures of a cancelled wait (then delete scans/_run_engine.py)."""
    import inspect

    cancels = "fut.cancel()" in inspect.getsource(RunEngine._wait_for)
    caplog.set_level(logging.ERROR, logger="asyncio")
    _pause_and_resume(RunEngine(context_managers=[]))
    assert bool(_invalid_state_records(caplog)) == cancels
