"""Small helpers both protocol servers share: running a callback on the server's loop
from any thread, letting that loop run when a thread sets PVs in a tight loop, and
telling whether a server listens on loopback only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

__all__ = ["YIELD_EVERY", "call_on_loop", "let_the_loop_run", "loop_has_work", "loopback_only"]

#: A thread that sets PVs in a loop lets the runtime's loop run at least this often, s.
YIELD_EVERY = 0.001
_last_yield = 0.0
_work = False


def loop_has_work() -> None:
    """A change was handed to the loop to publish (caproto's path): the thread that made
    it lets the loop run right after (:func:`let_the_loop_run`)."""
    global _work
    _work = True


def let_the_loop_run() -> None:
    """Hand the GIL to the runtime's loop after a PV was set, if it has work, else at most
    once per :data:`YIELD_EVERY`.

    A tight publishing loop would otherwise hold the GIL for Python's switch interval
    (5 ms) at a time, and the loop (clients' requests, the monitors caproto serves)
    would wait that long. ``time.sleep(0)`` lets it in, and costs 80-200 us here, more
    than a whole update on the update lane (ADR 0029): not after every set when the
    lane sent it.
    """
    global _last_yield, _work
    now = time.monotonic()
    if _work or now - _last_yield >= YIELD_EVERY:
        _work, _last_yield = False, now
        time.sleep(0)


def call_on_loop(loop: asyncio.AbstractEventLoop | None, fn: Callable[..., Any], *args: Any) -> None:
    """``fn(*args)`` now when called on ``loop``, else soon on it; nothing once it is closed."""
    if loop is None or loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        fn(*args)
    else:
        loop.call_soon_threadsafe(fn, *args)


def loopback_only(interfaces: tuple[str, ...]) -> bool:
    """True when every interface is a loopback address."""
    return all(i.startswith("127.") or i in ("localhost", "::1") for i in interfaces)
