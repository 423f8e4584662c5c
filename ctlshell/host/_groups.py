"""caproto ``PVGroup`` instances hosted unchanged in ctlshell's CA server.

The group's own ``ChannelData`` objects are served as they are, so ``putter``,
``getter``, ``SkipWrite``, limits and alarms behave exactly as under caproto's
``run()``. Its ``startup`` and ``scan`` hooks run as tasks on the runtime loop,
guarded: a hook that raises puts its PV in a MAJOR alarm (status SCAN for scans,
SOFT for startup hooks) and is logged, and the server and every other PV go on
(under caproto's ``run()`` a raising startup hook ends the whole server).

The group's PVs are served on PVA as well (``_pva_group``: the same ChannelData
written through the same putter), and the session's write rule (``restrict_writes``)
applies to them on both protocols: on CA by narrowing each channel's own
``check_access``.

One deliberate difference: caproto gives every PV of a group without an
``alarm_group`` one shared alarm, so one failing scan would put the whole group in
alarm (and flap with the others' scans). Here each such PV gets its own alarm;
PVs that name an ``alarm_group`` keep sharing theirs (ADR 0004).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from caproto import AccessRights, AlarmSeverity, AlarmStatus, ChannelAlarm
from caproto.asyncio.server import AsyncioAsyncLayer

from ..core import Client, ValidationError, WriteRule

__all__ = ["HostedGroup"]

log = logging.getLogger(__name__)


class _OncePerError(logging.Filter):
    """caproto logs a failing scan's traceback every period: say it once, in one line,
    and again only when the error changes."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__()
        self._seen: set[str] = set()
        self._failures = failures

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or record.msg != "Scan exception":
            return True
        text = f"{type(exc).__name__}: {exc}"
        if text not in self._seen:
            self._seen.add(text)
            self._failures.append(f"scan hook raised {text}")
            log.error("%s: scan hook raised %s; its PV is in alarm, the server goes on", record.name, text)
        return False


class HostedGroup:
    """One PVGroup served by a :class:`CaServer` (and a :class:`PvaServer`, when given);
    ``start``/``stop`` on the loop.

    Parameters
    ----------
    group : caproto PVGroup
    server : CaServer
    pva : PvaServer or None
    write_rule : callable or None
        Returns the session's current :class:`WriteRule`; None: anyone may write.
    """

    def __init__(self, group: Any, server: Any, pva: Any = None, write_rule: Any = None) -> None:
        self.group = group
        self.server = server
        self.pva = pva
        self._write_rule = write_rule
        self.names = list(group.pvdb)
        self._tasks: list[asyncio.Task[None]] = []
        self.failures: list[str] = []

    async def start(self, taken: set[str]) -> None:
        clash = [n for n in self.names if n in taken or self.server.has_channel(n)]
        if clash:
            raise ValidationError(f"already hosted here: {', '.join(clash[:10])}")
        shared = self.group.alarms.get(None)
        for channel in self.group.pvdb.values():
            if shared is not None and channel.alarm is shared:
                channel.alarm = ChannelAlarm()  # its own (see the module docstring)
        if self._write_rule is not None:
            for channel in self.group.pvdb.values():
                channel.check_access = self._narrowed(channel.check_access)
        self.server.add_channels(self.group.pvdb)
        if self.pva is not None:
            await self.pva.add_group(self.group.pvdb)
        self._filter = _OncePerError(self.failures)
        self.group.log.addFilter(self._filter)
        layer = AsyncioAsyncLayer()
        for name, channel in self.group.pvdb.items():
            for attr in ("server_startup", "server_scan"):
                hook = getattr(channel, attr, None)
                if hook is not None:
                    task = asyncio.create_task(self._guard(name, channel, attr, hook, layer),
                                               name=f"ctlshell-{attr}-{name}")
                    self._tasks.append(task)
        await asyncio.sleep(0)  # let each hook begin before host() returns

    async def _guard(self, name: str, channel: Any, attr: str, hook: Any, layer: Any) -> None:
        try:
            await hook(layer)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            kind = "scan" if attr == "server_scan" else "startup"
            message = f"{name}: {kind} hook raised {type(exc).__name__}: {exc}"
            self.failures.append(message)
            log.error("%s; the PV is in alarm, the server goes on", message)
            log.debug("%s: traceback", name, exc_info=exc)
            try:
                await channel.alarm.write(status=AlarmStatus.SCAN if kind == "scan" else AlarmStatus.SOFT,
                                          severity=AlarmSeverity.MAJOR_ALARM)
            except Exception:
                log.exception("%s: could not raise the alarm", name)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        layer = AsyncioAsyncLayer()
        for name, channel in self.group.pvdb.items():
            hook = getattr(channel, "server_shutdown", None)
            if hook is not None:
                try:
                    await asyncio.wait_for(hook(layer), 5.0)
                except Exception:
                    log.exception("%s: shutdown hook failed", name)
        self.server.remove_channels(self.names)
        if self.pva is not None:
            await self.pva.remove_group(self.names)
        for channel in self.group.pvdb.values():
            channel.__dict__.pop("check_access", None)  # the class's own again
        self.group.log.removeFilter(self._filter)

    def _narrowed(self, own: Any) -> Any:
        """``check_access`` of a channel, without WRITE for clients the write rule refuses."""
        def check_access(hostname: str, username: str) -> Any:
            access = own(hostname, username)
            rule: WriteRule = self._write_rule()
            if rule.allows(Client("ca", hostname, username)):
                return access
            return access & ~AccessRights.WRITE
        return check_access
