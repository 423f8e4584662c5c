"""Locking a device: ``with lock(dev): ...``, re-entrant, owned by this client.

A device with a ``lockedBy`` property (a hosted Daemon with ``LOCKABLE = True``, or
an EPICS prefix served by one) is locked by writing this client's id into it; its
server then refuses every other client's writes (``PVStore.add_lock``). A backend
with ``lock_key = None`` (Tango) locks natively through its ``lock``/``unlock``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..api import session
from ..core import PutRefusedError, ValidationError
from ._proxy import CLIENT_ID, DeviceProxy
from ._sync import run
from ._verbs import _proxy

__all__ = ["DeviceLock", "lock"]

log = logging.getLogger(__name__)


class DeviceLock:
    """A held lock of a device; release it with ``with`` or :meth:`release`. Re-entrant."""

    def __init__(self, proxy: DeviceProxy, wait_for_release: bool | None = None) -> None:
        self.proxy = proxy
        self._released = False
        self._wait_for_release = wait_for_release is not False

    def release(self) -> None:
        """Give the lock back; waits for the device's acknowledgement unless the lock was
        taken with ``wait_for_release=False``."""
        if not self._released:
            self._released = True
            run(_release(self.proxy), timeout=session().config.timeout + 1, wait=self._wait_for_release,
                what=f"unlock {self.proxy._backend.address}")

    def __enter__(self) -> DeviceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<DeviceLock {self.proxy._backend.address} {'released' if self._released else 'held'}>"


def lock(device: Any, wait_for_release: bool | None = None, *, timeout: Any = None, wait: bool = True) -> Any:
    """Lock a device for this client: ``with lock(dev, timeout=10): ...``.

    A hosted device (or any device with a ``lockedBy`` property) is locked through
    it, and its server refuses other clients' writes while it is held; a Tango device
    uses Tango's own lock. Waits while another client holds it (``timeout=`` bounds
    the wait: ``TimeoutError``).

    Parameters
    ----------
    device : DeviceProxy or str
    wait_for_release : bool, optional
        False: leaving the block sends the release without waiting for it (Karabo's).
    timeout : float or time quantity, optional
        How long to wait for another client's lock to go; no limit when omitted or -1.
    wait : bool
        False: return a :class:`Future` of the lock.

    Returns
    -------
    DeviceLock
        Held until ``release()`` or the end of the ``with`` block; nested locks of one
        proxy keep one lock, released by the outermost.

    Raises
    ------
    ValidationError
        The device has no lock (a Daemon or Device needs ``LOCKABLE = True``).
    TimeoutError
        Another client held the lock for all of ``timeout``.
    """
    proxy = _proxy(device)
    backend = proxy._backend
    if backend.lock_key is not None and backend.lock_key not in proxy._schema.properties:
        raise ValidationError(f"{backend.address} has no {backend.lock_key!r} property to lock it with "
                              "(host a Daemon with LOCKABLE = True, or list 'lockedBy' in pvs)")
    if wait_for_release not in (None, True, False):
        raise ValidationError(f"wait_for_release takes True, False or None, not {wait_for_release!r}")
    return run(_acquire(proxy, wait_for_release), timeout=timeout, wait=wait, what=f"lock {backend.address}")


async def _acquire(proxy: DeviceProxy, wait_for_release: bool | None = None) -> DeviceLock:
    backend, budget = proxy._backend, session().config.timeout
    if proxy._lock_depth:
        object.__setattr__(proxy, "_lock_depth", proxy._lock_depth + 1)
        return DeviceLock(proxy, wait_for_release)
    key = backend.lock_key
    if key is None:
        await backend.lock(CLIENT_ID, budget)
    else:
        while True:
            change = proxy._listen({key})
            try:
                holder = proxy._value(key).value
                if not holder or holder == CLIENT_ID:
                    try:
                        await backend.write(key, CLIENT_ID, wait=True, timeout=budget)
                    except PutRefusedError:  # another client was quicker
                        await proxy._refresh(key, budget)
                        continue
                    except asyncio.CancelledError:
                        # timed out or cancelled while the claim was on its way: it may
                        # have landed, and nobody would hold a handle to release it
                        asyncio.ensure_future(_give_back(proxy, budget))
                        raise
                    await proxy._refresh(key, budget)
                    break
                await change  # held by someone else: wait for it to change
            finally:
                change.cancel()
    object.__setattr__(proxy, "_lock_depth", 1)
    return DeviceLock(proxy, wait_for_release)


async def _give_back(proxy: DeviceProxy, budget: float) -> None:
    key = proxy._backend.lock_key
    assert key is not None
    try:
        if (await proxy._backend.read(key, budget)).value == CLIENT_ID and not proxy._lock_depth:
            await proxy._backend.write(key, "", wait=True, timeout=budget)
    except Exception as exc:
        log.warning("giving back the lock of %s after a cancelled lock() failed: %s", proxy._backend.address, exc)


async def _release(proxy: DeviceProxy) -> None:
    depth = proxy._lock_depth - 1
    object.__setattr__(proxy, "_lock_depth", max(depth, 0))
    if depth > 0:
        return
    backend, budget = proxy._backend, session().config.timeout
    if backend.lock_key is None:
        await backend.unlock(CLIENT_ID, budget)
    else:
        await backend.write(backend.lock_key, "", wait=True, timeout=budget)
        await proxy._refresh(backend.lock_key, budget)


