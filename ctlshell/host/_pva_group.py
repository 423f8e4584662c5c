"""caproto ``PVGroup`` channels on PV Access: one ``ChannelData`` mirrored into a SharedPV.

A hosted group's PVs are its own caproto ``ChannelData`` objects (ADR 0006). To serve
one on PVA too, :class:`GroupChannel` reads the channel's state (value, alarm,
timestamp, units, precision, limits, choices, access) into a :class:`Metadata` and a
:class:`Reading` for the NT helpers of :mod:`._pva_types`; listens to the channel the
way caproto's own circuits do (a subscription with a queue of ours, so every write,
scan and alarm change is posted); and writes a PVA put through ``ChannelData.write``,
so the group's putter, limits and ``SkipWrite`` act exactly as for a CA put. The
session's write rule (``restrict_writes``) is checked first, as for every hosted PV.
All of it runs on the runtime loop.
"""

from __future__ import annotations

import logging
from typing import Any

from caproto import AccessRights, ChannelType
from caproto._utils import ChannelFilter
from caproto.server.common import SubscriptionSpec

from ..core import Metadata, Reading, Severity, WriteRule
from ._pva_types import full_value, nt_type, put_client, put_request, update_value

__all__ = ["GroupChannel", "channel_metadata", "channel_reading"]

log = logging.getLogger(__name__)

_DTYPES = {ChannelType.DOUBLE: "double", ChannelType.FLOAT: "float", ChannelType.LONG: "long",
           ChannelType.INT: "short", ChannelType.CHAR: "char", ChannelType.STRING: "string",
           ChannelType.ENUM: "enum"}
#: DBE_VALUE | DBE_ALARM: what a monitor of the channel asks for
_MASK = 1 | 4
_NO_FILTER = ChannelFilter(ts=False, dbnd=None, arr=None, sync=None)


def _pair(channel: Any, low: str, high: str) -> tuple[float, float] | None:
    lo, hi = getattr(channel, low, None), getattr(channel, high, None)
    if lo is None or hi is None or lo == hi:  # EPICS: equal limits mean none
        return None
    return (float(lo), float(hi))


def channel_metadata(channel: Any) -> Metadata:
    """What ``info()`` would say of a caproto ``ChannelData``."""
    dtype = _DTYPES.get(ChannelType(channel.data_type), "double")
    count = int(channel.max_length or 1)
    if dtype == "char" and isinstance(channel.value, str):  # a string kept as a char array
        dtype, count = "string", 1
    precision = getattr(channel, "precision", None)
    # the class's own rule (read-only pvproperties), not a session's write rule
    read_only = not int(type(channel).check_access(channel, "", "")) & int(AccessRights.WRITE)
    return Metadata(
        dtype=dtype, count=count if dtype not in ("string", "enum") else 1,
        units=str(getattr(channel, "units", "") or ""),
        precision=int(precision) if dtype in ("double", "float") and precision is not None else None,
        display_limits=_pair(channel, "lower_disp_limit", "upper_disp_limit"),
        control_limits=_pair(channel, "lower_ctrl_limit", "upper_ctrl_limit"),
        alarm_limits=_pair(channel, "lower_alarm_limit", "upper_alarm_limit"),
        warning_limits=_pair(channel, "lower_warning_limit", "upper_warning_limit"),
        choices=tuple(channel.enum_strings) if dtype == "enum" else None,
        access="r" if read_only else "rw",
    )


def channel_reading(name: str, channel: Any, meta: Metadata) -> Reading:
    """The channel's current value, alarm and timestamp."""
    value = channel.value
    if meta.dtype == "enum" and isinstance(value, str):
        value = meta.choices.index(value) if meta.choices and value in meta.choices else 0
    severity = Severity(min(int(channel.alarm.severity), 3))
    status = "" if severity is Severity.NO_ALARM else channel.alarm.status.name
    return Reading(f"ca://{name}", value, float(channel.timestamp), severity, status)


class _Listener:
    """A subscription queue as caproto's ``ChannelData.publish`` expects one."""

    def __init__(self, on_update: Any) -> None:
        self._on_update = on_update

    async def put(self, update: Any) -> None:
        self._on_update()


class GroupChannel:
    """One group channel served on PVA; also the SharedPV's put handler.

    Parameters
    ----------
    name : str
    channel : caproto ChannelData
    write_rule : callable
        Returns the session's current :class:`WriteRule`.
    """

    def __init__(self, name: str, channel: Any, write_rule: Any) -> None:
        self.name = name
        self.channel = channel
        self.meta = channel_metadata(channel)
        self.kind = nt_type(self.meta)
        self._write_rule = write_rule
        self._listener = _Listener(self._post)
        self._spec = SubscriptionSpec(db_entry=channel, data_type_name=ChannelType(channel.data_type).name,
                                      mask=_MASK, channel_filter=_NO_FILTER)
        self.shared: Any = None

    def initial(self) -> Any:
        return full_value(self.kind, channel_reading(self.name, self.channel, self.meta), self.meta)

    async def start(self, shared: Any) -> None:
        """Post every change of the channel to ``shared`` from now on (on the loop)."""
        self.shared = shared
        await self.channel.subscribe(self._listener, self._spec, None)

    async def stop(self) -> None:
        await self.channel.unsubscribe(self._listener, self._spec)
        self.shared = None

    def _post(self) -> None:
        if self.shared is None:
            return
        try:
            self.shared.post(update_value(self.kind, channel_reading(self.name, self.channel, self.meta), self.meta))
        except Exception:
            log.exception("publishing %s on PVA failed", self.name)

    # -- SharedPV handler -------------------------------------------------------------
    async def put(self, pv: Any, op: Any) -> None:
        client = put_client(op)
        try:
            if not self.meta.writable:
                raise PermissionError(f"{self.name} is read-only")
            rule: WriteRule = self._write_rule()
            rule.check(client, self.name)
            await self.channel.write(put_request(op.value(), self.meta, self.name))
        except Exception as exc:  # the putter's, caproto's limit check, the rule: the client hears why
            log.warning("refused a PVA write of %s from %s: %s", self.name, op.peer(), exc)
            op.done(error=f"{type(exc).__name__}: {exc}" if not str(exc).startswith(self.name) else str(exc))
            return
        op.done()
