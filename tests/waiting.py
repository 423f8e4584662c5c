"""Polling until a condition holds, for tests of threads and servers."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(pred: Callable[[], object], timeout: float = 2.0, what: str = "the condition", *,
             step: float = 0.001) -> float:
    """Return once ``pred()`` is true (the ``time.monotonic()`` it was seen at);
    AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)
    return time.monotonic()
