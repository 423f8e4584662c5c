"""Attribute configurations (what writes are checked against), kept as the device has them.

A write is checked locally against the attribute's configuration so that a refused
value is never sent; that check must be neither stricter nor looser than the
device's, although any client may change the configuration at any time. So
:class:`Specs` trusts a fetched configuration for :data:`SPEC_MAX_AGE` only, and
:meth:`Specs.check` fetches it afresh whenever the local check and the device could
disagree: before refusing a value locally, and after the device refused a value the
local check let through (the refusal then names the device's limits of now).

Why not Tango's attribute-configuration events: subscribing to them from the
blocking-call pool, next to the change-event subscriptions of the streams' own
thread, hung ``subscribe_event`` against pytango device servers (docs/decisions,
"Tango attribute configuration").
"""

from __future__ import annotations

import threading
import time
from typing import Any

import tango

from ...core import PutRefusedError, ValidationError
from ._convert import AttrSpec, to_spec
from ._devices import Devices
from ._names import TangoName

__all__ = ["SPEC_MAX_AGE", "Specs"]

#: Seconds a fetched configuration is trusted: a change by another client is
#: followed by the next write after this (a write costs a round trip anyway; one
#: more ``attribute_query`` per attribute and half second is small).
SPEC_MAX_AGE = 0.5


class Specs:
    """The configuration of each attribute written, fetched again when stale."""

    def __init__(self, devices: Devices) -> None:
        self._devices = devices
        self._lock = threading.Lock()
        self._cache: dict[TangoName, tuple[float, AttrSpec]] = {}

    async def get(self, tn: TangoName, timeout: float, *, fresh: bool = False) -> AttrSpec:
        """The configuration of ``tn``; ``fresh`` asks the device whatever the cache has."""
        cached = self._cache.get(tn)
        if cached is not None and not fresh and time.monotonic() - cached[0] < SPEC_MAX_AGE:
            return cached[1]

        def fetch(proxy: tango.DeviceProxy) -> AttrSpec:
            spec = to_spec(proxy.attribute_query(tn.member))
            with self._lock:
                self._cache[tn] = (time.monotonic(), spec)
            return spec

        return await self._devices.call(tn, "info", timeout, fetch)

    async def check(self, tn: TangoName, value: Any, timeout: float) -> Any:
        """``value`` as pytango writes it, checked against the device's configuration.

        Raises
        ------
        PutRefusedError
            The attribute is not writable.
        ValidationError
            The value does not fit the configuration the device has now.
        """
        spec = await self.get(tn, timeout)
        try:
            return _checked(spec, value, tn)
        except PutRefusedError:
            raise
        except ValidationError:
            # before refusing, make sure the configuration is the device's current one
            return _checked(await self.get(tn, timeout, fresh=True), value, tn)

    async def recheck(self, tn: TangoName, value: Any, timeout: float, refusal: Exception) -> None:
        """After the device refused ``value``: raise the local refusal with the device's
        configuration of now, or ``refusal`` when that configuration allows the value."""
        _checked(await self.get(tn, timeout, fresh=True), value, tn)
        raise refusal

    def forget(self, tn: TangoName) -> None:
        with self._lock:
            self._cache.pop(tn, None)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def _checked(spec: AttrSpec, value: Any, tn: TangoName) -> Any:
    if not spec.meta.writable:
        raise PutRefusedError(f"{tn} is read-only (the attribute is not writable)")
    return spec.check(value, str(tn))
