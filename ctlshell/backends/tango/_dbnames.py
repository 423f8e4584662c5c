"""Listing what a Tango database knows: exported device names, and the attribute and
command names of one device. Blocking pytango calls, for a background thread (the
interactive layer's name cache); never called from a keypress or the runtime loop.

Addresses come back in ctlshell's spelling: ``tango://[host:port/]dom/fam/member``,
``.../attribute`` and ``...->Command``; ``host`` None means the session's TANGO_HOST.
"""

from __future__ import annotations

import tango

__all__ = ["device_address", "list_devices", "list_members"]

#: Each call to a device server waits at most this long (a dead server must not hold
#: the background thread for the default 3 s per device).
MEMBER_TIMEOUT_MS = 1500


def device_address(host: str | None, device: str) -> str:
    """``tango://[host/]device``, the device's name as completion offers it."""
    return f"tango://{host}/{device}" if host else f"tango://{device}"


def list_devices(host: str | None) -> list[str]:
    """Addresses of the devices exported in the database at ``host`` (``"name:port"``;
    None for TANGO_HOST), without the admin devices (``dserver/...``).

    Raises
    ------
    tango.DevFailed
        The database cannot be reached.
    """
    if host:
        name, _, port = host.rpartition(":")
        db = tango.Database(name, int(port))
    else:
        db = tango.Database()
    devices = sorted({d.lower() for d in db.get_device_exported("*")})
    return [device_address(host, d) for d in devices if not d.startswith("dserver/")]


def list_members(host: str | None, device: str) -> list[str]:
    """Addresses of the attributes and commands of ``device`` (asks its server).

    Raises
    ------
    tango.DevFailed
        The device cannot be reached.
    """
    proxy = tango.DeviceProxy(device_address(host, device), green_mode=tango.GreenMode.Synchronous)
    proxy.set_timeout_millis(MEMBER_TIMEOUT_MS)
    base = device_address(host, device)
    attributes = [f"{base}/{a}" for a in proxy.get_attribute_list()]
    commands = [f"{base}->{c}" for c in proxy.get_command_list() if c not in ("State", "Status")]  # attributes too
    return attributes + commands
