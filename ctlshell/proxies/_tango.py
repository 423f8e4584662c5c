"""A Tango device as a proxy: :class:`TangoBackend`.

Properties are the device's attributes (or the ``pvs`` given), read, written and
subscribed as ``tango://`` channels through the channel cache; slots are its
commands (without State, Status and Init); the lock is Tango's own device lock.
Talks to the device through ctlshell's ``tango`` backend; imports no protocol library.

Also the Tango database verbs: :func:`tango_devices`, :func:`tango_classes`,
:func:`tango_servers` (names by wildcard pattern) and the device properties of a
device, :func:`device_properties` and :func:`set_device_property`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..api import session
from ..core import NotFoundError, ValidationError, parse_address
from ._backend import ChannelBackend
from ._schema import Schema

__all__ = ["TangoBackend", "device_properties", "set_device_property", "tango_classes", "tango_devices",
           "tango_servers"]

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


# -- the Tango database and device properties --------------------------------------------------
def _tango_backend() -> Any:
    return session().registry.get("tango")


def _list(kind: str, pattern: str, database: str | None, timeout: float | None) -> list[str]:
    s = session()
    return s.run(_tango_backend().list_names(kind, pattern, database, timeout or s.config.timeout), timeout,
                 f"list Tango {kind} {pattern!r}")


def tango_devices(pattern: str = "*", *, database: str | None = None, timeout: float | None = None) -> list[str]:
    """Device names in the Tango database matching ``pattern`` (``*`` matches any text).

    Parameters
    ----------
    pattern : str
        e.g. ``"sys/*"`` or ``"*/motor/*"``.
    database : str, optional
        ``host:port`` of the database; ``TANGO_HOST`` when omitted.
    timeout : float, optional

    Returns
    -------
    list of str
        Sorted, lower case.

    Raises
    ------
    ValidationError
        A pattern with characters Tango names do not have.
    """
    return _list("devices", pattern, database, timeout)


def tango_classes(pattern: str = "*", *, database: str | None = None, timeout: float | None = None) -> list[str]:
    """Device class names in the Tango database matching ``pattern`` (see :func:`tango_devices`)."""
    return _list("classes", pattern, database, timeout)


def tango_servers(pattern: str = "*", *, database: str | None = None, timeout: float | None = None) -> list[str]:
    """Device servers (``Executable/instance``) matching ``pattern`` (see :func:`tango_devices`)."""
    return _list("servers", pattern, database, timeout)


def _device(device: Any) -> str:
    """The name after ``tango://`` of a Tango device address or of a Tango device's proxy."""
    backend = getattr(device, "_backend", None)
    if isinstance(backend, TangoBackend):
        return backend.address.removeprefix("tango://")
    if isinstance(device, str) and device.startswith("tango://"):
        return device.removeprefix("tango://")
    raise ValidationError(f"device properties are of Tango devices: 'tango://dom/fam/mem' or its proxy, "
                          f"got {device!r}")


def device_properties(device: Any, *, timeout: float | None = None) -> dict[str, Any]:
    """The device properties of a Tango device (its configuration in the database).

    Parameters
    ----------
    device : str or DeviceProxy
        ``"tango://[host:port/]dom/fam/mem"`` or the proxy of a Tango device.

    Returns
    -------
    dict
        Property name -> value: one string, or a tuple of strings.
    """
    s, name = session(), _device(device)
    return s.run(_tango_backend().device_properties(name, timeout or s.config.timeout), timeout,
                 f"device properties of tango://{name}")


def set_device_property(device: Any, name: str, value: Any, *, timeout: float | None = None) -> None:
    """Write one device property of a Tango device into the database.

    The device reads its properties when it starts (or on its ``Init`` command).

    Parameters
    ----------
    device : str or DeviceProxy
    name : str
    value : str, number or sequence of them
        Stored as Tango stores properties: a list of strings.

    Raises
    ------
    ValidationError
        A bad name or value (nothing written).
    """
    s, dev = session(), _device(device)
    s.run(_tango_backend().set_device_properties(dev, {name: value}, timeout or s.config.timeout), timeout,
          f"set device property {name} of tango://{dev}")
