"""Device proxies and the thread pool every blocking pytango call runs in.

pytango's calls block (a read waits up to the device timeout), so none runs on the
runtime loop: :meth:`Devices.call` runs one in the pool and awaits it with a
timeout. One ``DeviceProxy`` per device serves all its attributes and commands.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import TypeVar

import tango

from ...core import ChannelTimeoutError
from ._errors import CONNECTION_REASONS, reasons, to_error
from ._names import TangoName

__all__ = ["Devices"]

T = TypeVar("T")
#: Milliseconds a device may take to answer one call (cppTango's default).
DEVICE_TIMEOUT_MS = 3000


class Devices:
    """Proxies by device, created on first use, and the pool blocking calls run in."""

    def __init__(self, workers: int = 4) -> None:
        self._proxies: dict[tuple[str | None, str, bool], tango.DeviceProxy] = {}
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="ctlshell-tango")

    def proxy(self, name: TangoName) -> tango.DeviceProxy:
        """The proxy of ``name``'s device (blocking: may ask the database). Raises DevFailed."""
        proxy = self._proxies.get(name.device_key)  # a dict read is atomic; creation takes the lock
        if proxy is None:
            # synchronous whatever green mode the user's own code chose globally: every
            # call here blocks a pool thread or the caller, never returns a future
            proxy = tango.DeviceProxy(name.device_url, green_mode=tango.GreenMode.Synchronous)
            proxy.set_timeout_millis(DEVICE_TIMEOUT_MS)
            with self._lock:
                proxy = self._proxies.setdefault(name.device_key, proxy)
        return proxy

    def forget_if_unreachable(self, name: TangoName, exc: tango.DevFailed) -> bool:
        """Drop the proxy of ``name``'s device when ``exc`` says the device cannot be reached.

        cppTango refuses a proxy's reconnection within 1 s of its last failed attempt;
        a new proxy asks the database again and connects at once, so a restarted
        server (on any port) is read at the next call. True when the proxy was dropped.
        """
        if not set(reasons(exc)) & (CONNECTION_REASONS | {"DB_DeviceNotDefined"}):
            return False
        with self._lock:
            self._proxies.pop(name.device_key, None)
        return True

    async def call(self, name: TangoName, verb: str, timeout: float,
                   fn: Callable[[tango.DeviceProxy], T], *, proxy: bool = True) -> T:
        """``fn(proxy)`` in the pool, within ``timeout``; DevFailed becomes a ctlshell error."""
        def run() -> T:
            try:
                return fn(self.proxy(name) if proxy else None)
            except tango.DevFailed as exc:
                if proxy:
                    self.forget_if_unreachable(name, exc)
                raise

        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, run), timeout)
        except asyncio.TimeoutError:  # an alias of TimeoutError from Python 3.11 on
            raise ChannelTimeoutError(f"{name}: no answer to {verb} within {timeout} s") from None
        except tango.DevFailed as exc:
            raise to_error(exc, str(name), verb, timeout) from None

    async def run(self, name: TangoName, verb: str, timeout: float, fn: Callable[[], T]) -> T:
        """``fn()`` (a blocking call that needs no device proxy) in the pool, as :meth:`call`."""
        return await self.call(name, verb, timeout, lambda _proxy: fn(), proxy=False)

    def close(self) -> None:
        """Stop the pool (queued calls are cancelled) and forget every proxy."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._proxies.clear()
