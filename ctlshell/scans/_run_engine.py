"""The one reach into bluesky's RunEngine: a status that ends after its wait was cancelled.

bluesky 1.16 cancels the futures a ``wait`` was waiting on when the wait itself is
cancelled (``RunEngine._wait_for``), which is what an immediate pause does: Ctrl-C
during a move. The RunEngine then calls ``stop()`` on the motor, the motor's status
ends, and the status's callback (``RunEngine._status_object_completed``, scheduled on
the RunEngine's loop) sets the result of that cancelled future. asyncio raises
``InvalidStateError`` and prints its traceback in the middle of the scan's table,
although the pause, the stop and the resume all went right.

The guard below drops a status result whose future is already done (cancelled by the
pause, so nobody waits on it: a resume re-runs the plan from its checkpoint with new
statuses). bluesky 1.13 to 1.15 pass an ``asyncio.Event`` there, which has nothing to
guard and is left alone. ``tests/unit/test_run_engine_guard.py`` checks this against
the installed bluesky.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bluesky import RunEngine

__all__ = ["GuardedRunEngine"]


class GuardedRunEngine(RunEngine):
    """bluesky's RunEngine, minus the traceback of a status ended after a pause."""

    def _status_object_completed(self, ret: Any, fut: Any, pardon_failures: Any) -> None:
        if isinstance(fut, asyncio.Future) and fut.done():
            return  # its wait was cancelled (an immediate pause): nobody reads it
        super()._status_object_completed(ret, fut, pardon_failures)
