"""The configuration of a p4p PVA gateway, as data: :class:`GatewayConfig`.

Pure: settings in, the JSON document ``python -m p4p.gw`` reads out, or a
:class:`~ctlshell.core.ValidationError` naming the bad setting. Knows the p4p.gw
file format (version 2); knows nothing of processes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from ..core import ValidationError

__all__ = ["GatewayConfig"]


def _host_port(entry: str, what: str) -> tuple[str, int | None]:
    host, _, port = entry.rpartition(":") if ":" in entry else (entry, "", "")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValidationError(f"{what}: {entry!r} is not an IPv4 address (optionally with :port)") from None
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValidationError(f"{what}: port in {entry!r} must be 1..65535")
    return host, int(port) if port else None


def _tuple(value: str | Sequence[str]) -> tuple[str, ...]:
    return tuple(value.split()) if isinstance(value, str) else tuple(str(v) for v in value)


@dataclass(frozen=True)
class GatewayConfig:
    """One gateway: a client side searching upstream, a server side serving downstream.

    Attributes
    ----------
    upstream : tuple of str
        Where the client side searches: addresses, each optionally ``:UDPPORT``
        (``EPICS_PVA_ADDR_LIST`` of the gateway's client). Default loopback.
    upstream_broadcast_port : int
        UDP search port for entries of ``upstream`` without a port (5076).
    interfaces : tuple of str
        Addresses the server side listens on (default loopback only).
    server_port, broadcast_port : int
        TCP and UDP search ports of the server side. The defaults (5085, 5086) let a
        gateway share loopback with servers on the standard 5075/5076; at a site where
        the server side has a network of its own, give it the standard ports there.
    beacons : tuple of str
        Where the server side sends beacons; default loopback when every interface
        is loopback, else automatic (the interfaces' broadcast addresses).
    status_prefix : str
        Prefix of the gateway's status PVs (``PREFIX:cache``, ``PREFIX:clients``,
        ``PREFIX:stats``, ...); "" for none.
    read_only : bool
        Refuse every put through the gateway (p4p.gw's default); False passes puts on.
    access, pvlist : str
        Optional ACF and PV list files (p4p.gw ``access`` / ``pvlist``) for a site.
    """

    upstream: tuple[str, ...] = ("127.0.0.1",)
    upstream_broadcast_port: int = 5076
    interfaces: tuple[str, ...] = ("127.0.0.1",)
    server_port: int = 5085
    broadcast_port: int = 5086
    beacons: tuple[str, ...] | None = None
    status_prefix: str = "GW:"
    read_only: bool = False
    access: str = ""
    pvlist: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "upstream", _tuple(self.upstream))
        object.__setattr__(self, "interfaces", _tuple(self.interfaces))
        if self.beacons is not None:
            object.__setattr__(self, "beacons", _tuple(self.beacons))
        for key in ("upstream_broadcast_port", "server_port", "broadcast_port"):
            port = getattr(self, key)
            if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
                raise ValidationError(f"gateway {key} must be a port 1..65535, not {port!r}")
        if not self.upstream:
            raise ValidationError("gateway upstream must name at least one address to search")
        if not self.interfaces:
            raise ValidationError("gateway interfaces must name at least one address to listen on")
        upstream_ports = set()
        for entry in self.upstream:
            host, port = _host_port(entry, "gateway upstream")
            upstream_ports.add((host, port or self.upstream_broadcast_port))
        for entry in (*self.interfaces, *(self.beacons or ())):
            _host_port(entry, "gateway interfaces/beacons")
        for iface in self.interfaces:
            if (iface, self.broadcast_port) in upstream_ports:
                raise ValidationError(
                    f"gateway broadcast_port {self.broadcast_port} on {iface} is where it searches upstream; "
                    "give the server side ports of its own")
        if any(c.isspace() for c in self.status_prefix):
            raise ValidationError(f"gateway status_prefix {self.status_prefix!r} must not contain spaces")

    @property
    def loopback_only(self) -> bool:
        return all(ipaddress.ip_address(i).is_loopback for i in self.interfaces)

    def replace(self, **changes: Any) -> GatewayConfig:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValidationError(f"unknown gateway setting(s) {sorted(unknown)}; known: {sorted(known)}")
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The p4p.gw configuration document (``"version": 2``)."""
        beacons = self.beacons
        if beacons is None:
            beacons = ("127.0.0.1",) if self.loopback_only else ()
        server: dict[str, Any] = {
            "name": "downstream",
            "clients": ["upstream"],
            "interface": list(self.interfaces),
            "addrlist": " ".join(beacons),
            "autoaddrlist": not beacons,
            "serverport": self.server_port,
            "bcastport": self.broadcast_port,
        }
        if self.status_prefix:
            server["statusprefix"] = self.status_prefix
        if self.access:
            server["access"] = self.access
        if self.pvlist:
            server["pvlist"] = self.pvlist
        return {
            "version": 2,
            "readOnly": self.read_only,
            "clients": [{
                "name": "upstream",
                "provider": "pva",
                "addrlist": " ".join(self.upstream),
                "autoaddrlist": False,
                "bcastport": self.upstream_broadcast_port,
            }],
            "servers": [server],
        }
