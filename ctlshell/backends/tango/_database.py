"""The Tango database: listing devices, classes and servers, and device properties.

:class:`Databases` lists what a Tango database knows, by wildcard pattern (``*``
matches any text, as Tango's own ``DbGet...List`` commands take it), and reads and
writes the *device properties* of a device (its configuration in the database,
each a list of strings). Every call blocks, so it runs in the pool of
:class:`~._devices.Devices`. Checks of patterns, property names and values are pure
(:func:`check_pattern`, :func:`check_property`): bad input raises before anything is
asked or written.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tango

from ...core import ValidationError
from ._devices import Devices
from ._names import TangoName

__all__ = ["Databases", "check_pattern", "check_property", "from_property"]

_PATTERN = re.compile(r"^[A-Za-z0-9_.*\-/:]+$")
_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def check_pattern(pattern: Any) -> str:
    """A wildcard pattern (``*`` for any text), or ValidationError."""
    if not isinstance(pattern, str) or not _PATTERN.match(pattern):
        raise ValidationError(f"a Tango name pattern is letters, digits, '_-./:' and '*' wildcards, "
                              f"got {pattern!r}")
    return pattern


def check_property(name: Any, value: Any) -> list[str]:
    """A device property's name and value as Tango stores it (a list of strings).

    A value is a string, a number or bool (stored as its text) or a sequence of them.

    Raises
    ------
    ValidationError
        A name that is not an identifier-like word; a value of another type; an empty
        sequence (Tango cannot store one: delete the property instead).
    """
    if not isinstance(name, str) or not _PROPERTY.match(name):
        raise ValidationError(f"a device property name is a word (letters, digits, '_.-'), got {name!r}")
    items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if not items:
        raise ValidationError(f"device property {name}: an empty value cannot be stored")
    out = []
    for item in items:
        if isinstance(item, np.generic):
            item = item.item()
        if not isinstance(item, (str, int, float)):  # a bool is an int: stored as True / False
            raise ValidationError(f"device property {name}: values are strings or numbers, "
                                  f"got {type(item).__name__} {item!r}")
        out.append(str(item))
    return out


def from_property(values: Sequence[str]) -> str | tuple[str, ...]:
    """Tango's list of strings as ctlshell shows it: one string alone, else a tuple."""
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else tuple(values)


class Databases:
    """One ``tango.Database`` client per database host, and the calls made of them."""

    def __init__(self, devices: Devices) -> None:
        self._devices = devices
        self._databases: dict[str | None, tango.Database] = {}
        self._lock = threading.Lock()

    def _database(self, host: str | None) -> tango.Database:
        with self._lock:
            db = self._databases.get(host)
            if db is None:
                if host is None:
                    db = tango.Database()  # TANGO_HOST
                else:
                    name, _, port = host.rpartition(":")
                    db = tango.Database(name, int(port))
                self._databases[host] = db
            return db

    async def _ask(self, host: str | None, what: str, timeout: float, fn: Any) -> Any:
        where = TangoName(host, "sys/database/2")  # names the database in errors
        return await self._devices.run(where, what, timeout, lambda: fn(self._database(host)))

    async def devices(self, pattern: str, host: str | None, timeout: float) -> list[str]:
        """Device names matching ``pattern`` (``"sys/*"``, ``"*/motor/*"``), sorted."""
        pattern = check_pattern(pattern)
        names = await self._ask(host, "list devices", timeout,
                                lambda db: db.command_inout("DbGetDeviceWideList", pattern))
        return sorted(str(n).lower() for n in names)

    async def classes(self, pattern: str, host: str | None, timeout: float) -> list[str]:
        """Device class names matching ``pattern``, sorted."""
        pattern = check_pattern(pattern)
        return sorted(await self._ask(host, "list classes", timeout,
                                      lambda db: list(db.get_class_list(pattern).value_string)))

    async def servers(self, pattern: str, host: str | None, timeout: float) -> list[str]:
        """Device servers (``Executable/instance``) matching ``pattern``, sorted."""
        pattern = check_pattern(pattern)
        return sorted(await self._ask(host, "list servers", timeout,
                                      lambda db: list(db.get_server_list(pattern).value_string)))

    async def properties(self, device: TangoName, timeout: float) -> dict[str, str | tuple[str, ...]]:
        """Every device property of ``device``, by name."""
        def read(proxy: tango.DeviceProxy) -> dict[str, str | tuple[str, ...]]:
            names = list(proxy.get_property_list("*"))
            if not names:
                return {}
            return {k: from_property(v) for k, v in sorted(proxy.get_property(names).items())}

        self._need_database(device)
        return await self._devices.call(device, "read device properties", timeout, read)

    async def put_properties(self, device: TangoName, changes: Mapping[str, Any], timeout: float) -> None:
        """Write device properties (every one checked before any is written)."""
        checked = {name: check_property(name, value) for name, value in changes.items()}
        if not checked:
            raise ValidationError("no device property to set")
        self._need_database(device)
        await self._devices.call(device, "write device properties", timeout, lambda p: p.put_property(checked))

    @staticmethod
    def _need_database(device: TangoName) -> None:
        if not device.dbase:
            raise ValidationError(f"{device}: device properties live in a Tango database; "
                                  "this device is reached with #dbase=no")
