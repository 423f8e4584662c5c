"""Waiting for devices: ``wait_until_new`` (any of some properties gets a new value)
and ``wait_until`` / ``wait_while`` (a condition re-evaluated on every update).

The waits are coroutines on the runtime loop that listen to the proxies' update
futures; they are registered before the state is checked, so no update is lost
between the check and the wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..core import ValidationError
from ._proxy import DeviceProxy, listen_any, source_of
from ._sync import run

__all__ = ["wait_until", "wait_until_new", "wait_while"]


def wait_until_new(*props: Any, timeout: Any = None, wait: bool = True) -> Any:
    """Wait until any of ``props`` gets a new value (pushed or read back).

    Parameters
    ----------
    *props : Value or DeviceProxy
        Values read from proxies (``dev.counter``, also while still unset), or whole
        proxies (any of their properties).
    timeout : float or time quantity, optional
        No limit when omitted.
    wait : bool
        False: return a :class:`Future` at once (``cancel()`` stops the wait).

    Returns
    -------
    None
        As Karabo's (or a Future, with ``wait=False``); read the new value from the proxy.

    Raises
    ------
    TimeoutError
        ``timeout`` ran out (a :class:`ChannelTimeoutError`).
    ValidationError
        Nothing to wait for, or a value not read from a proxy (a derived value).
    """
    if not props:
        raise ValidationError("wait_until_new needs at least one property (dev.x) or proxy")
    groups: dict[int, tuple[DeviceProxy, set[str] | None]] = {}
    for prop in props:
        proxy, key = (prop, None) if isinstance(prop, DeviceProxy) else source_of(prop)
        _, keys = groups.setdefault(id(proxy), (proxy, set()))
        if key is None or keys is None:
            groups[id(proxy)] = (proxy, None)
        else:
            keys.add(key)
    start = {pid: proxy._generations() for pid, (proxy, _) in groups.items()}  # taken now, in the caller

    async def waiting() -> Any:
        while True:
            futures = [proxy._listen(keys) for proxy, keys in groups.values()]
            try:
                for pid, (proxy, keys) in groups.items():
                    now = proxy._generations()
                    for key, gen in now.items():
                        if (keys is None or key in keys) and gen > start[pid][key]:
                            return None
                await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for future in futures:
                    future.cancel()

    return run(waiting(), timeout=timeout, wait=wait, what="wait_until_new")


def wait_until(condition: Callable[[], object], *, timeout: Any = None, wait: bool = True) -> Any:
    """Wait until ``condition()`` is true.

    Parameters
    ----------
    condition : callable
        Evaluated now and after every property update of any proxy, on the runtime
        thread: read proxies in it (``lambda: dev.x > 5 * unit.mm``), call no verbs.
    timeout : float or time quantity, optional
    wait : bool
        False: return a :class:`Future` at once.

    Returns
    -------
    None
        As Karabo's (or a Future, with ``wait=False``).

    Raises
    ------
    TimeoutError
        ``timeout`` ran out; whatever the condition raises.
    """
    if not callable(condition):
        raise ValidationError(f"wait_until needs a callable, not {condition!r}")

    async def waiting() -> Any:
        while True:
            change = listen_any()
            try:
                if condition():
                    return None
                await change
            finally:
                change.cancel()

    return run(waiting(), timeout=timeout, wait=wait, what="wait_until")


def wait_while(condition: Callable[[], object], *, timeout: Any = None, wait: bool = True) -> Any:
    """Wait while ``condition()`` is true (see :func:`wait_until`)."""
    if not callable(condition):
        raise ValidationError(f"wait_while needs a callable, not {condition!r}")
    return wait_until(lambda: not condition(), timeout=timeout, wait=wait)


