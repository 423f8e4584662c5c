"""Where a hosted CA server listens for searches, so that many servers share a host.

On one host, every CA server binds the same UDP port (5064). A unicast search to
``127.0.0.1:5064`` reaches only one of the sockets bound there, so EPICS relies on
*broadcast* searches, which reach every socket bound to the broadcast address or the
wildcard: RSRV and caproto bound to ``0.0.0.0`` get them that way. A server bound to
an interface address (ctlshell's default, ``127.0.0.1``) also binds a receive-only
socket on that interface's broadcast address (``127.255.255.255`` on loopback): a
search to it reaches every server on the host, while replies still leave from the
interface address. This is what RSRV does for each entry of EPICS_CAS_INTF_ADDR_LIST.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import time

__all__ = ["LOOPBACK_BROADCAST", "broadcast_of", "broadcast_socket", "served_elsewhere"]

#: The broadcast address of 127.0.0.0/8 (Linux routes it to every socket of the host's loopback).
LOOPBACK_BROADCAST = "127.255.255.255"
#: Linux ioctls for an interface's address and broadcast address
SIOCGIFADDR, SIOCGIFBRDADDR = 0x8915, 0x8919


def broadcast_of(interface: str) -> str | None:
    """The broadcast address searches to ``interface``'s network go to (None: none needed or known).

    ``0.0.0.0`` receives broadcasts already; a loopback address has 127.255.255.255;
    another address gets its interface's broadcast address as the system reports it.
    """
    try:
        addr = ipaddress.IPv4Address(interface)
    except ValueError:
        return None
    if addr.is_unspecified:
        return None
    if addr.is_loopback:
        return LOOPBACK_BROADCAST
    for address, broadcast in _interfaces():
        if address == interface and broadcast and broadcast != interface:
            return broadcast
    return None


def _interfaces() -> list[tuple[str, str]]:
    """(address, broadcast address) of each IPv4 interface, as the kernel reports them (Linux)."""
    found: list[tuple[str, str]] = []
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return found
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                address = socket.inet_ntoa(fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)[20:24])
                broadcast = socket.inet_ntoa(fcntl.ioctl(sock.fileno(), SIOCGIFBRDADDR, request)[20:24])
            except OSError:  # no IPv4 address
                continue
            if broadcast != "0.0.0.0":
                found.append((address, broadcast))
    return found


def broadcast_socket(address: str, port: int) -> socket.socket:
    """A UDP socket bound to ``address:port`` that other servers of the host may bind too."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setblocking(False)
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def served_elsewhere(names: list[str], udp_port: int, own_tcp_port: int | None,
                     timeout: float = 0.5) -> dict[str, str]:
    """Which of ``names`` another CA server of this host answers, and where (``host:port``).

    One broadcast search to 127.255.255.255 on ``udp_port``; answers from this process's
    own server (TCP ``own_tcp_port`` on loopback) are left out.
    """
    import caproto as ca

    if not names:
        return {}
    broadcaster = ca.Broadcaster(our_role=ca.CLIENT)
    cids = {cid: name for cid, name in enumerate(names, 1)}
    found: dict[str, str] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.05)
        requests = [ca.SearchRequest(name, cid, ca.DEFAULT_PROTOCOL_VERSION) for cid, name in cids.items()]
        for start in range(0, len(requests), 50):  # well within one datagram
            batch = broadcaster.send(ca.VersionRequest(0, ca.DEFAULT_PROTOCOL_VERSION), *requests[start:start + 50])
            sock.sendto(batch, (LOOPBACK_BROADCAST, udp_port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, addr = sock.recvfrom(65536)
            except (TimeoutError, BlockingIOError):
                continue
            try:
                replies = broadcaster.recv(data, addr)
            except ca.CaprotoError:
                continue
            for reply in replies:
                if not isinstance(reply, ca.SearchResponse) or reply.cid not in cids:
                    continue
                host = addr[0] if reply.ip in (None, "255.255.255.255") else reply.ip
                if reply.port == own_tcp_port and host.startswith("127."):
                    continue
                found[cids[reply.cid]] = f"{host}:{reply.port}"
    return found
