"""Pure parsing of the name part of ``tango://`` addresses.

``[host:port/]domain/family/member[/attribute | ->Command][#dbase=no]``: which
database (or which server, with ``#dbase=no``) to ask, which device, which member.
Takes strings, returns frozen :class:`TangoName` values; does no I/O.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ...core import AddressError

__all__ = ["TangoName", "attribute_name", "command_name", "parse_name"]

_PART = r"[^/\s#>]+"
_NAME = re.compile(
    r"^(?:(?P<host>[A-Za-z0-9_.\-]+):(?P<port>\d{1,5})/)?"
    rf"(?P<device>{_PART}/{_PART}/{_PART})"
    rf"(?:/(?P<attr>{_PART})|->(?P<command>[A-Za-z_][A-Za-z0-9_]*))?"
    r"(?:#dbase=(?P<dbase>yes|no))?$"
)


@dataclass(frozen=True)
class TangoName:
    """A parsed Tango name.

    Attributes
    ----------
    host : str or None
        ``host:port`` of the database (or, with ``dbase`` False, of the device server);
        None for the session's ``TANGO_HOST``.
    device : str
        ``domain/family/member``, lower case (Tango names ignore case).
    member : str
        Attribute or command name ("" for the device itself).
    is_command : bool
    dbase : bool
        False for ``#dbase=no``: the device is reached directly, without a database.
    """

    host: str | None
    device: str
    member: str = ""
    is_command: bool = False
    dbase: bool = True

    @property
    def device_url(self) -> str:
        """The name a ``tango.DeviceProxy`` takes for this device."""
        url = f"tango://{self.host}/{self.device}" if self.host else self.device
        return url if self.dbase else url + "#dbase=no"

    @functools.cached_property
    def device_key(self) -> tuple[str | None, str, bool]:
        """Identity of the device: one proxy serves every member of it."""
        return (self.host, self.device, self.dbase)

    @functools.cached_property
    def address(self) -> str:
        """The ``tango://`` address, normalised (kept: it names every reading)."""
        return self._text()

    def __str__(self) -> str:
        return self.address

    def _text(self) -> str:
        host = f"{self.host}/" if self.host else ""
        sep = "->" if self.is_command else "/"
        member = f"{sep}{self.member}" if self.member else ""
        return f"tango://{host}{self.device}{member}{'' if self.dbase else '#dbase=no'}"


def parse_name(name: str) -> TangoName:
    """Parse the name of a ``tango://`` address.

    Raises
    ------
    AddressError
        The name does not follow the Tango naming rules, or ``#dbase=no`` is used
        without ``host:port`` (a device can only be reached directly at an address).
    """
    m = _NAME.match(name.strip())
    if m is None:
        raise AddressError(
            f"malformed Tango address 'tango://{name}': expected "
            "'tango://[host:port/]domain/family/member/attribute' or '...member->Command'")
    host = f"{m['host'].lower()}:{int(m['port'])}" if m["host"] else None
    dbase = m["dbase"] != "no"
    if not dbase and host is None:
        raise AddressError(f"'tango://{name}': #dbase=no needs the server's host:port in front of the device")
    member = m["command"] or m["attr"] or ""
    return TangoName(host, m["device"].lower(), member, m["command"] is not None, dbase)


@functools.lru_cache(maxsize=4096)  # pure, and parsed again on every read
def attribute_name(name: str) -> TangoName:
    """:func:`parse_name` for verbs that need an attribute (get, put, monitor, info)."""
    parsed = parse_name(name)
    if parsed.is_command:
        raise AddressError(f"{parsed} is a command: run it with ctlshell.command({str(parsed)!r})")
    if not parsed.member:
        raise AddressError(f"{parsed} names a device; add an attribute, e.g. {parsed}/State")
    return parsed


def command_name(name: str) -> TangoName:
    """:func:`parse_name` for a command address ``...->Command``."""
    parsed = parse_name(name)
    if not parsed.is_command:
        raise AddressError(f"{parsed} is not a command address; write 'tango://domain/family/member->Command'")
    return parsed


def device_name(name: str) -> TangoName:
    """:func:`parse_name` for a whole device (``[host:port/]domain/family/member``)."""
    base, sep, fragment = name.partition("#")
    parsed = parse_name(f"{base.rstrip('/')}/State{sep}{fragment}")  # the device part, checked
    return TangoName(parsed.host, parsed.device, "", False, parsed.dbase)
