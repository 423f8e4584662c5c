"""Attribute configurations (what writes are checked against), kept as the device has them.

A write is checked locally against the attribute's configuration so that a refused
value is never sent; that check must be neither stricter nor looser than the
device's. :class:`Specs` fetches a configuration once and then follows it with
Tango's attribute-configuration events (``ATTR_CONF_EVENT``, sent by the device
whenever any client changes the configuration); where a device sends none, a
configuration older than :data:`SPEC_MAX_AGE` is fetched again. :meth:`Specs.check`
also fetches afresh whenever the local check and the device could disagree: before
refusing a value locally, and after the device refused one it let through.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import tango

from ...core import PutRefusedError, ValidationError
from ._convert import AttrSpec, to_spec
from ._devices import Devices
from ._names import TangoName

__all__ = ["SPEC_MAX_AGE", "Specs"]

log = logging.getLogger(__name__)

#: Seconds a configuration is trusted without configuration events from its device.
SPEC_MAX_AGE = 10.0


class Specs:
    """The configuration of each attribute written, followed by its configuration events."""

    def __init__(self, devices: Devices) -> None:
        self._devices = devices
        self._lock = threading.Lock()
        #: name -> (fetched at, spec, followed by events)
        self._cache: dict[TangoName, tuple[float, AttrSpec, bool]] = {}
        self._subscriptions: dict[TangoName, tuple[Any, int]] = {}

    async def get(self, tn: TangoName, timeout: float, *, fresh: bool = False, follow: bool = False) -> AttrSpec:
        """The configuration of ``tn``; ``fresh`` asks the device; ``follow`` subscribes
        to its configuration events (once)."""
        cached = self._cache.get(tn)
        if cached is not None and not fresh and (cached[2] or time.monotonic() - cached[0] < SPEC_MAX_AGE):
            return cached[1]

        def fetch(proxy: tango.DeviceProxy) -> AttrSpec:
            if follow and tn not in self._subscriptions:
                self._follow(proxy, tn)
            spec = to_spec(proxy.attribute_query(tn.member))
            with self._lock:
                events = tn in self._subscriptions
                self._cache[tn] = (time.monotonic(), spec, events)
            return spec

        return await self._devices.call(tn, "info", timeout, fetch)

    def _follow(self, proxy: tango.DeviceProxy, tn: TangoName) -> None:
        """Subscribe to ``tn``'s configuration events (blocking; a pool thread)."""
        def on_event(event: Any) -> None:  # a Tango event thread
            if event.err or event.attr_conf is None:
                with self._lock:  # no longer followed: fetched again when next needed
                    self._cache.pop(tn, None)
                return
            with self._lock:
                self._cache[tn] = (time.monotonic(), to_spec(event.attr_conf), True)

        try:
            event_id = proxy.subscribe_event(tn.member, tango.EventType.ATTR_CONF_EVENT, on_event)
        except tango.DevFailed as exc:
            log.debug("%s sends no configuration events (%s): fetched when older than %s s", tn, exc, SPEC_MAX_AGE)
            return
        with self._lock:
            self._subscriptions[tn] = (proxy, event_id)

    async def check(self, tn: TangoName, value: Any, timeout: float) -> Any:
        """``value`` as pytango writes it, checked against the device's configuration.

        Raises
        ------
        PutRefusedError
            The attribute is not writable.
        ValidationError
            The value does not fit the configuration the device has now.
        """
        spec = await self.get(tn, timeout, follow=True)
        try:
            return _checked(spec, value, tn)
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

    def close(self) -> None:
        """Drop every configuration-event subscription (blocking)."""
        with self._lock:
            subscriptions, self._subscriptions = self._subscriptions, {}
            self._cache.clear()
        for proxy, event_id in subscriptions.values():
            try:
                proxy.unsubscribe_event(event_id)
            except (tango.DevFailed, KeyError, ValueError):
                pass


def _checked(spec: AttrSpec, value: Any, tn: TangoName) -> Any:
    if not spec.meta.writable:
        raise PutRefusedError(f"{tn} is read-only (the attribute is not writable)")
    return spec.check(value, str(tn))
