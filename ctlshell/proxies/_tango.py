"""A Tango device as a proxy: :class:`TangoBackend`.

Properties are the device's attributes (or the ``pvs`` given), read, written and
subscribed as ``tango://`` channels through the channel cache; slots are its
commands (without State, Status and Init); the lock is Tango's own device lock.
Talks to the device through ctlshell's ``tango`` backend; imports no protocol library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..api import session
from ..core import NotFoundError, ValidationError, parse_address
from ._backend import ChannelBackend
from ._schema import Schema

__all__ = ["TangoBackend"]

#: commands every Tango device has; not slots of the proxy
_BUILTIN = {"State", "Status", "Init"}


class TangoBackend(ChannelBackend):
    """A Tango device ``[host:port/]domain/family/member[#dbase=no]``.

    Parameters
    ----------
    name : str
        The device name after ``tango://``.
    pvs : sequence of str, optional
        The attributes to show; all of them (State and Status last) by default.
    """

    lock_key = None

    def __init__(self, name: str, pvs: Sequence[str] | None) -> None:
        base, sep, fragment = name.partition("#")
        self.device = base.rstrip("/")
        self._fragment = sep + fragment
        self._wanted = list(pvs) if pvs else None
        self._commands: dict[str, str] = {}
        super().__init__("tango", self.device + "/", self._wanted or ["State"])
        self.address = f"tango://{self.device}{self._fragment}"

    def _backend(self) -> Any:
        return session().registry.get("tango")

    def channel(self, key: str) -> Any:
        return parse_address(f"tango://{self.device}/{key}{self._fragment}")

    def slots(self) -> dict[str, str]:
        return {name: doc for name, doc in self._commands.items() if name not in _BUILTIN}

    async def connect(self, timeout: float) -> Schema:
        attributes, self._commands = await self._backend().device_members(
            self.device + self._fragment, timeout)
        if self._wanted is None:
            ordinary = [a for a in attributes if a not in ("State", "Status")]
            self.keys = ordinary + [a for a in ("State", "Status") if a in attributes]
        else:
            missing = [k for k in self._wanted if k not in attributes]
            if missing:
                raise NotFoundError(f"{self.address} has no attribute {missing}; it has {attributes}")
        return await super().connect(timeout)

    async def call(self, slot: str, timeout: float, *args: Any) -> Any:
        if slot not in self.slots():
            return await super().call(slot, timeout, *args)
        if len(args) > 1:
            raise ValidationError(f"{self.address}->{slot} takes one argument (a Tango command's input), "
                                  f"got {len(args)}; nothing was sent")
        argument = args[0] if args else None
        return await self._backend().execute(f"{self.device}->{slot}{self._fragment}", argument, timeout)

    async def lock(self, owner: str, timeout: float) -> None:
        await self._backend().lock_device(self.device + self._fragment, timeout)

    async def unlock(self, owner: str, timeout: float) -> None:
        await self._backend().unlock_device(self.device + self._fragment, timeout)
