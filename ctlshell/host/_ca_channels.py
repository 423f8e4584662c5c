"""caproto channel classes that mirror a :class:`SoftPV` instead of owning a value.

A CA client's write goes through :meth:`SoftPV.client_write` first (access rule,
type and limits checked there, then the PV's write handler, if any: a refused value
changes nothing, not even the alarm), then is published on CA with the stored
reading's timestamp. The client's host and user name, which CA sends, travel with
the write into the journal. Knows caproto's data classes; knows nothing of the
server loop.
"""

from __future__ import annotations

import contextvars
from typing import Any

import numpy as np
from caproto import AccessRights, AlarmSeverity, AlarmStatus, ChannelType
from caproto import ChannelDouble, ChannelEnum, ChannelInteger, ChannelString
from caproto._dbr import SubscriptionType

from ..core import Client, Metadata, Reading, SoftPV
from ._ca_wire import alarm_status

__all__ = ["make_channel", "wire_value", "write_reading"]

#: Updates waiting per subscription and circuit. One: a slow client gets the newest
#: value, never a backlog of old ones (caproto's default keeps 1000).
SUBSCRIPTION_BACKLOG = 1
#: The CA client of the write being handled (set per write task by ``auth_write``).
_client: contextvars.ContextVar[Client] = contextvars.ContextVar("ctlshell_ca_client", default=Client("ca"))  # noqa: B039 (frozen)
_FLAGS = SubscriptionType.DBE_VALUE | SubscriptionType.DBE_LOG | SubscriptionType.DBE_ALARM
#: set by ``write_reading(publish=False)`` for the write it makes (this task only)
_held: contextvars.ContextVar[bool] = contextvars.ContextVar("ctlshell_ca_held", default=False)  # noqa: B039 (a bool)


def wire_value(value: Any, meta: Metadata) -> Any:
    """A stored value as caproto wants it (enum index -> choice, array -> list)."""
    if meta.dtype == "enum":
        return (meta.choices or ("",))[int(value)]
    if isinstance(value, np.ndarray):
        return value.tolist() if meta.count <= 1 else value
    return value


def _store_value(value: Any, meta: Metadata) -> Any:
    """A value from the wire as SoftPV.write takes it (one-element arrays -> scalar)."""
    if not meta.is_array and isinstance(value, (list, tuple, np.ndarray)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value


class _Mirror:
    """Mixed into each caproto class; holds the SoftPV it mirrors and the reading it
    last published."""

    softpv: SoftPV
    published: Reading
    #: the server's publication of every change still waiting for the loop (set by the
    #: server): awaited before a client's write completes, so that its completion never
    #: overtakes what changed before it (a motor's readback before its move's end)
    flush_pending: Any = None
    #: the server's :class:`~._ca_lane.LaneIndex` (set by the server): does caproto serve
    #: a monitor of this channel?
    lanes: Any = None
    #: a scalar's channel may lag its SoftPV while caproto serves no monitor of it (the
    #: lane sends what monitors there are, ADR 0029): caproto's ``ChannelData.write`` was
    #: a third of the loop's work per write of a daemon item nobody monitors. Set by
    #: :func:`make_channel`.
    lazy: bool = False
    #: the SoftPV has a newer reading than the channel: written in before caproto reads
    #: the channel (a read, a new subscription)
    stale: bool = False

    async def catch_up(self) -> None:
        """Write the SoftPV's newest reading in if the channel lags it; published only
        when caproto serves a monitor of it by then."""
        while self.stale:
            self.stale = False
            lanes = self.lanes
            publish = lanes is None or not lanes.lane_only(self.softpv.name)
            await write_reading(self, self.softpv.read(), publish=publish)

    async def read(self, data_type: Any) -> Any:
        # caproto's hook for this: "Subclass might trigger a write here to update
        # self._data before reading it out"
        await self.catch_up()
        return await super().read(data_type)  # type: ignore[misc]  # a mixin: the caproto ChannelData after it has it

    async def subscribe(self, queue: Any, sub_spec: Any, sub: Any) -> None:
        await self.catch_up()  # the first update of a monitor is the channel's value
        await super().subscribe(queue, sub_spec, sub)  # type: ignore[misc]  # a mixin: the caproto ChannelData after it has it

    def check_access(self, hostname: str, username: str) -> AccessRights:
        store = self.softpv._store
        allowed = store is None or store.write_rule.allows(Client("ca", hostname, username))
        if self.softpv.metadata.writable and allowed:
            return AccessRights.READ | AccessRights.WRITE
        return AccessRights.READ

    async def auth_write(self, hostname: str, username: str, data: Any, data_type: Any, metadata: Any,
                         *, flags: int = 0, user_address: Any = None) -> Any:
        # each CA write runs in its own task, so the context variable is this write's
        peer = f"{user_address[0]}:{user_address[1]}" if user_address else ""
        _client.set(Client("ca", hostname or "", username or "", peer))
        return await super().auth_write(hostname, username, data, data_type,  # type: ignore[misc]  # a mixin: the caproto ChannelData after it has it
                                         metadata, flags=flags, user_address=user_address)

    async def publish(self, flags: int) -> None:
        if _held.get():
            # the channel keeps the value; the update lane sent it (ADR 0029). caproto
            # keeps the first update it gave a new subscriber for the next one until it
            # next publishes (ChannelData._content, caproto 1.2 and 1.3): now out of
            # date, or the next monitor would start on the value before this one
            self._content.clear()  # type: ignore[attr-defined]  # a mixin: the caproto ChannelData after it has it
            return
        await super().publish(flags)  # type: ignore[misc]  # a mixin: the caproto ChannelData after it has it

    async def write(self, value: Any, *, flags: int = 0, verify_value: bool = True,
                    update_fields: bool = True, **metadata: Any) -> None:
        if verify_value:
            # a CA client: check and store in the SoftPV before caproto touches anything,
            # so a refused value leaves value *and* alarm as they were
            reading = await self.softpv.client_write(_store_value(value, self.softpv.metadata),
                                                     _client.get(), origin=self)
            if reading is not None:  # else the handler published through the store
                await write_reading(self, reading)
            if self.flush_pending is not None:
                await self.flush_pending()
            return
        await super().write(value, flags=flags, verify_value=False,  # type: ignore[misc]  # a mixin: the caproto ChannelData after it has it
                            update_fields=update_fields, **metadata)


async def write_reading(channel: Any, reading: Reading, publish: bool = True) -> None:
    """Publish a stored reading on CA: value, server timestamp and alarm together.

    With ``publish`` false the channel only holds it (for reads and new monitors): no
    monitor update is queued through caproto.
    """
    meta = channel.softpv.metadata
    channel.published = reading  # so that a reading published by two paths goes out once
    channel._status = AlarmStatus(alarm_status(reading.status))
    channel._severity = AlarmSeverity(min(int(reading.severity), 3))
    token = _held.set(not publish)
    try:
        await channel.write(wire_value(reading.value, meta), flags=_FLAGS, verify_value=False,
                            timestamp=reading.timestamp)
    finally:
        _held.reset(token)


class _Double(_Mirror, ChannelDouble):
    pass


class _Integer(_Mirror, ChannelInteger):
    pass


class _String(_Mirror, ChannelString):
    pass


class _Enum(_Mirror, ChannelEnum):
    pass


def _limits(meta: Metadata) -> dict[str, float]:
    out: dict[str, float] = {}
    for attr, (lo_key, hi_key) in {
        "display_limits": ("lower_disp_limit", "upper_disp_limit"),
        "control_limits": ("lower_ctrl_limit", "upper_ctrl_limit"),
        "alarm_limits": ("lower_alarm_limit", "upper_alarm_limit"),
        "warning_limits": ("lower_warning_limit", "upper_warning_limit"),
    }.items():
        pair = getattr(meta, attr)
        if pair is not None:
            out[lo_key], out[hi_key] = pair
    if "upper_disp_limit" not in out and "upper_ctrl_limit" in out:
        out["lower_disp_limit"], out["upper_disp_limit"] = out["lower_ctrl_limit"], out["upper_ctrl_limit"]
    return out


class _ReadOnlyInteger(ChannelInteger):
    def check_access(self, hostname: str, username: str) -> AccessRights:
        return AccessRights.READ


def anchor_channel() -> Any:
    """A read-only integer channel, served for this process's own CA client to hold open
    (see ``CaServer.anchor``)."""
    return _ReadOnlyInteger(value=0)


def make_channel(pv: SoftPV) -> Any:
    """A caproto ChannelData mirroring ``pv``, holding its current reading."""
    meta, reading = pv.metadata, pv.read()
    common: dict[str, Any] = {
        "value": wire_value(reading.value, meta),
        "timestamp": reading.timestamp,
        "max_subscription_backlog": SUBSCRIPTION_BACKLOG,
    }
    if meta.dtype == "enum":
        channel: Any = _Enum(enum_strings=list(meta.choices or ()), **common)
    elif meta.dtype == "string":
        channel = _String(**common)
    else:
        numeric = dict(common, units=meta.units, **_limits(meta))
        if meta.is_array:
            numeric["max_length"] = meta.count
        if meta.dtype in ("double", "float"):
            channel = _Double(precision=meta.precision or 0, **numeric)
        else:
            channel = _Integer(**numeric)
    channel.softpv = pv
    channel.published = reading
    channel.lazy = not meta.is_array  # a scalar's length never changes: caproto may read it late
    if reading.severity:
        channel.alarm._data["severity"] = AlarmSeverity(min(int(reading.severity), 3))
        if reading.status in AlarmStatus.__members__:
            channel.alarm._data["status"] = AlarmStatus[reading.status]
    assert channel.data_type in (ChannelType.DOUBLE, ChannelType.LONG, ChannelType.STRING, ChannelType.ENUM)
    return channel
