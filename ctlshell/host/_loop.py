"""Small helpers both protocol servers share: running a callback on the server's loop
from any thread, and telling whether a server listens on loopback only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

__all__ = ["call_on_loop", "loopback_only"]


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
