"""The host and port a Tango device server listens on, read from its own IOR.

A server started with ``-ORBendPoint giop:tcp:HOST:0`` lets the operating system pick
the port (no pick-then-bind race); omniORB writes the port it got into the server's
object references. :func:`server_host_port` reads it from the admin device's IOR
(``tango.Util.get_dserver_ior``, public pytango API); :func:`parse_ior` decodes the
CORBA IOR (a CDR encapsulation) and is pure. Knows nothing of NeXus.
"""

from __future__ import annotations

import struct

__all__ = ["parse_ior", "server_host_port"]

_TAG_INTERNET_IOP = 0


def _align(pos: int, n: int) -> int:
    return (pos + n - 1) // n * n


def parse_ior(ior: str) -> tuple[str, int]:
    """The host and port of the first IIOP profile of a stringified IOR.

    Parameters
    ----------
    ior : str
        ``"IOR:"`` and the hex digits of a CDR encapsulation.

    Returns
    -------
    (str, int)
        The profile's host and TCP port.

    Raises
    ------
    ValueError
        Not an IOR, truncated, or without an IIOP profile.
    """
    if not ior.startswith("IOR:"):
        raise ValueError(f"not a stringified IOR: {ior[:20]!r}")
    try:
        data = bytes.fromhex(ior[4:])
        order = "<" if data[0] else ">"
        (type_len,) = struct.unpack_from(order + "I", data, 4)
        pos = _align(8 + type_len, 4)
        (profiles,) = struct.unpack_from(order + "I", data, pos)
        pos += 4
        for _ in range(profiles):
            pos = _align(pos, 4)
            tag, length = struct.unpack_from(order + "II", data, pos)
            body = data[pos + 8:pos + 8 + length]
            pos += 8 + length
            if tag != _TAG_INTERNET_IOP:
                continue
            # ProfileBody: byte order, version major/minor, string host, ushort port
            # (alignment counts from the start of the encapsulation)
            bo = "<" if body[0] else ">"
            (host_len,) = struct.unpack_from(bo + "I", body, 4)
            host = body[8:8 + host_len].rstrip(b"\0").decode("ascii")
            (port,) = struct.unpack_from(bo + "H", body, _align(8 + host_len, 2))
            return host, port
    except (ValueError, struct.error, IndexError) as exc:  # bad hex, truncated, non-ASCII host
        raise ValueError(f"malformed IOR: {exc}") from exc
    raise ValueError("the IOR has no IIOP profile")


def server_host_port() -> tuple[str, int]:
    """Where this process's Tango device server listens (call it once the server runs)."""
    from tango import Util

    util = Util.instance()
    return parse_ior(util.get_dserver_ior(util.get_dserver_device()))
