"""Attribute configurations (what writes are checked against), kept as the device has them.

A write is checked locally against the attribute's configuration so that a refused
value is never sent; that check must be neither stricter nor looser than the
device's, although any client may change the configuration at any time. So the
first write of an attribute subscribes to its attribute-configuration events
(``ATTR_CONF_EVENT``, which a device sends whenever a client changes the
configuration), in Tango's pull model: every later check reads the subscription's
client-side queue (no round trip) and uses the newest configuration in it. Where a
device sends none, a fetched configuration is trusted for :data:`SPEC_MAX_AGE`.
Either way :meth:`Specs.check` fetches afresh whenever the local check and the
device could disagree: before refusing a value locally, and after the device
refused one the local check let through (the refusal then names the device's
limits of now).

The pull model, not a callback: subscribing with a Python callback from the
blocking-call pool hung ``subscribe_event`` (the initial event's callback and the
subscribing thread wait for each other).
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

__all__ = ["CONF_EVENT_BUFFER", "SPEC_MAX_AGE", "Specs"]

log = logging.getLogger(__name__)

#: Seconds a fetched configuration is trusted when its device sends no configuration
#: events (a write costs a round trip anyway; one more ``attribute_query`` per
#: attribute and half second is small).
SPEC_MAX_AGE = 0.5
#: Configuration events cppTango keeps per subscription between two checks (only the newest counts).
CONF_EVENT_BUFFER = 10


class Specs:
    """The configuration of each attribute written, followed by its configuration events."""

    def __init__(self, devices: Devices) -> None:
        self._devices = devices
        self._lock = threading.Lock()
        self._cache: dict[TangoName, tuple[float, AttrSpec]] = {}
        #: name -> (proxy, event id) of a configuration-event subscription that works
        self._follows: dict[TangoName, tuple[Any, int]] = {}
        self._dropped: list[tuple[Any, int]] = []  # failed subscriptions, unsubscribed later

    async def get(self, tn: TangoName, timeout: float, *, fresh: bool = False, follow: bool = False) -> AttrSpec:
        """The configuration of ``tn``; ``fresh`` asks the device whatever the cache has;
        ``follow`` subscribes to its configuration events (once)."""
        if not fresh:
            followed = self._follows.get(tn)
            if followed is not None and self._drain(tn, *followed):
                return self._cache[tn][1]
            cached = self._cache.get(tn)
            if cached is not None and time.monotonic() - cached[0] < SPEC_MAX_AGE:
                return cached[1]

        def fetch(proxy: tango.DeviceProxy) -> AttrSpec:
            self._unsubscribe_dropped()
            if follow and tn not in self._follows:
                self._follow(proxy, tn)
            spec = to_spec(proxy.attribute_query(tn.member))
            with self._lock:
                self._cache[tn] = (time.monotonic(), spec)
            return spec

        return await self._devices.call(tn, "info", timeout, fetch)

    def _follow(self, proxy: tango.DeviceProxy, tn: TangoName) -> None:
        """Subscribe to the configuration events of ``tn`` (blocking: a pool thread)."""
        try:
            event_id = proxy.subscribe_event(tn.member, tango.EventType.ATTR_CONF_EVENT, CONF_EVENT_BUFFER)
        except tango.DevFailed as exc:
            log.debug("%s: no configuration events (%s); fetched when older than %s s", tn, exc, SPEC_MAX_AGE)
            return
        with self._lock:
            self._follows[tn] = (proxy, event_id)

    def _drain(self, tn: TangoName, proxy: Any, event_id: int) -> bool:
        """Take the queued configuration events of ``tn`` (no round trip); False when the
        subscription failed (the device went away: its configuration is fetched again)."""
        try:
            events = proxy.get_events(event_id)
        except (tango.DevFailed, KeyError, ValueError):
            events = None
        newest = None
        for event in events or ():
            if event.err or event.attr_conf is None:
                newest = None
                events = None
                break
            newest = event.attr_conf
        if events is None:
            with self._lock:
                if self._follows.pop(tn, None) is not None:
                    self._dropped.append((proxy, event_id))
            return False
        if newest is not None:
            with self._lock:
                self._cache[tn] = (time.monotonic(), to_spec(newest))
        return tn in self._cache

    def _unsubscribe_dropped(self) -> None:
        with self._lock:
            dropped, self._dropped = self._dropped, []
        for proxy, event_id in dropped:
            _unsubscribe(proxy, event_id)

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
        """Drop what is known of ``tn`` (its subscription is dropped at the next fetch)."""
        with self._lock:
            self._cache.pop(tn, None)
            followed = self._follows.pop(tn, None)
            if followed is not None:
                self._dropped.append(followed)

    def close(self) -> None:
        """Drop every configuration-event subscription (blocking) and every configuration."""
        with self._lock:
            subscriptions = [*self._follows.values(), *self._dropped]
            self._follows, self._dropped = {}, []
            self._cache.clear()
        for proxy, event_id in subscriptions:
            _unsubscribe(proxy, event_id)


def _unsubscribe(proxy: Any, event_id: int) -> None:
    try:
        proxy.unsubscribe_event(event_id)
    except (tango.DevFailed, KeyError, ValueError):
        pass


def _checked(spec: AttrSpec, value: Any, tn: TangoName) -> Any:
    if not spec.meta.writable:
        raise PutRefusedError(f"{tn} is read-only (the attribute is not writable)")
    return spec.check(value, str(tn))
