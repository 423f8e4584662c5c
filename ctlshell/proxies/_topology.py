"""Karabo's topology verbs over ctlshell's world: ``get_devices``, ``get_servers``,
``get_classes``, ``get_topology``, ``get_instance_info``, ``is_alive``.

The mapping (ADR 0008): devices are what this process hosts (``local://PREFIX``: a
Daemon, Device or hosted group) and every device it has a proxy of (an EPICS prefix,
a Tango device); the one server is this process (what ``ctlshell serve`` runs),
and its classes are the classes of the hosted objects. Other ``ctlshell serve``
processes and Tango device servers are not discovered: there is no broker to ask.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from ..api import session
from ..core import ValidationError
from ._hash import Hash, HashElement
from ._proxy import DeviceProxy

__all__ = ["SERVER_ID", "find_devices", "find_servers", "get_classes", "get_devices", "get_instance_info",
           "get_servers", "get_topology", "is_alive"]

#: This process as a Karabo server id.
SERVER_ID = f"ctlshell/{socket.gethostname()}/{os.getpid()}"
_VISIBILITY = 3


def _hosted() -> list[tuple[str, Any]]:
    out = []
    for obj in session().objects:
        inner = getattr(obj, "group", obj)
        prefix = getattr(inner, "prefix", None)
        if isinstance(prefix, str) and prefix:
            out.append((f"local://{prefix}", inner))
    return out


def _entries() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(devices, servers): each id with its attributes."""
    from ._verbs import _registry, _registry_lock

    devices: dict[str, dict[str, Any]] = {}
    classes: list[str] = []
    for address, obj in _hosted():
        cls = type(obj).__name__
        if cls not in classes:
            classes.append(cls)
        devices[address] = {"classId": cls, "serverId": SERVER_ID, "type": "device", "visibility": _VISIBILITY}
    with _registry_lock:
        proxies = [p for p in _registry.values() if not p._closed]
    for proxy in proxies:
        devices.setdefault(proxy._backend.address, {"classId": type(proxy._backend).__name__, "serverId": "",
                                                    "type": "device", "visibility": _VISIBILITY})
    servers = {SERVER_ID: {"deviceClasses": classes, "type": "server", "visibility": _VISIBILITY,
                           "host": socket.gethostname()}}
    return devices, servers


def get_topology() -> Hash:
    """Karabo's system topology: ``device`` and ``server`` nodes, each id with
    ``classId``, ``serverId``, ``type``, ``visibility`` (and ``deviceClasses`` on a server).

    Ids are addresses, which may hold dots (``tango://host:10000/a/b/c``): each is one
    key of its node; read them with ``iterall()``.
    """
    devices, servers = _entries()
    h = Hash("device", Hash(), "server", Hash(), "client", Hash())
    for node, entries in (("device", devices), ("server", servers)):
        for key, attrs in entries.items():
            dict.__setitem__(h[node], key, HashElement(Hash(), dict(attrs)))
    return h


def _matching(ids: list[str], pattern: str | None) -> list[str]:
    if pattern is not None and not isinstance(pattern, str):
        raise ValidationError(f"matchPattern takes a string, not {pattern!r}")
    return ids if pattern is None else [i for i in ids if pattern.lower() in i.lower()]


def get_devices(serverId: str | None = None, visibility: int = 3,  # noqa: N803 (Karabo's keywords)
                matchPattern: str | None = None) -> list[str]:
    """The device ids (addresses) of this process's topology, optionally of one server
    and containing ``matchPattern`` (case-insensitive)."""
    devices, _ = _entries()
    ids = [k for k, a in devices.items() if a["visibility"] <= visibility
           and (serverId is None or a["serverId"] == serverId)]
    return _matching(ids, matchPattern)


def find_devices(matchPattern: str, visibility: int = 3) -> list[str]:  # noqa: N803
    """``get_devices(matchPattern=...)``."""
    return get_devices(matchPattern=matchPattern, visibility=visibility)


def get_servers(visibility: int = 3, matchPattern: str | None = None) -> list[str]:  # noqa: N803
    """The server ids: this process."""
    _, servers = _entries()
    return _matching([k for k, a in servers.items() if a["visibility"] <= visibility], matchPattern)


def find_servers(matchPattern: str, visibility: int = 3) -> list[str]:  # noqa: N803
    return get_servers(visibility=visibility, matchPattern=matchPattern)


def get_classes(serverId: str) -> list[str]:  # noqa: N803
    """The classes of the objects a server hosts.

    Raises
    ------
    KeyError
        An unknown server id.
    """
    _, servers = _entries()
    if serverId not in servers:
        raise KeyError(f"no server {serverId!r}; there is {sorted(servers)}")
    return list(servers[serverId]["deviceClasses"])


def get_instance_info(device: Any) -> Hash:
    """Karabo's ``instanceInfo`` of a device (by address or proxy).

    Raises
    ------
    KeyError
        A device not in the topology.
    """
    address = device._backend.address if isinstance(device, DeviceProxy) else str(device)
    devices, _ = _entries()
    if address not in devices:
        raise KeyError(f"no device {address!r} in this session's topology")
    return Hash(*[x for kv in devices[address].items() for x in kv])


def is_alive(proxy: DeviceProxy) -> bool:
    """True while the proxy is connected and none of its properties is disconnected."""
    if not isinstance(proxy, DeviceProxy):
        raise ValidationError(f"is_alive takes a proxy, not {proxy!r}")
    if proxy._closed:
        return False
    with proxy._mutex:
        raws = dict(proxy._raw)
    return all(raws.get(k, (0, None))[1] is not None for k in proxy._schema.properties)
