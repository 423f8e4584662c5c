"""ctlshell.nexus._ior.parse_ior: the port a Tango server got, read from its IOR.

The IORs are built here in both CDR byte orders, the way omniORB writes them (a type id,
an IIOP profile after another profile); a real server's IOR is read back by
tests/integration/test_cli.py and test_nexus_device.py (their WriterProcess binds port 0).
"""

from __future__ import annotations

import struct

import pytest

from ctlshell.nexus._ior import parse_ior


def _pad(buf: bytes, n: int) -> bytes:
    return buf + b"\0" * (-len(buf) % n)


def _ior(host: str, port: int, little: bool, other_profile_first: bool = False) -> str:
    o = "<" if little else ">"
    type_id = b"IDL:Tango/Device_5:1.0\0"
    body = bytes([little, 1, 2]) + b"\0"
    body += struct.pack(o + "I", len(host) + 1) + host.encode() + b"\0"
    body = _pad(body, 2) + struct.pack(o + "H", port) + b"\0\0\0\0object-key"
    profiles = []
    if other_profile_first:
        profiles.append(struct.pack(o + "II", 1, 3) + b"abc")  # TAG_MULTIPLE_COMPONENTS
    profiles.append(struct.pack(o + "II", 0, len(body)) + body)
    data = bytes([little]) + b"\0\0\0" + struct.pack(o + "I", len(type_id)) + type_id
    data = _pad(data, 4) + struct.pack(o + "I", len(profiles))
    for p in profiles:
        data = _pad(data, 4) + p
    return "IOR:" + data.hex()


@pytest.mark.parametrize("little", [True, False])
@pytest.mark.parametrize("host", ["127.0.0.1", "a.b", "localhost"])  # host lengths that need and need no padding
def test_host_and_port_in_either_byte_order(little: bool, host: str) -> None:
    assert parse_ior(_ior(host, 44639, little)) == (host, 44639)


def test_the_iiop_profile_is_found_after_another_one() -> None:
    assert parse_ior(_ior("127.0.0.1", 1, True, other_profile_first=True)) == ("127.0.0.1", 1)


@pytest.mark.parametrize("text, message", [
    ("corbaloc::127.0.0.1:1/x", "not a stringified IOR"),
    ("IOR:0100", "malformed IOR"),
    ("IOR:zz", "malformed IOR"),
])
def test_bad_iors_say_so(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ior(text)


def test_an_ior_without_iiop_profile() -> None:
    ior = _ior("127.0.0.1", 1, True, other_profile_first=True)
    data = bytearray.fromhex(ior[4:])
    # keep only the first (non-IIOP) profile: profile count 1
    cut = data.index(b"IDL:Tango/Device_5:1.0\0") + len(b"IDL:Tango/Device_5:1.0\0")
    cut += -cut % 4
    data[cut:cut + 4] = struct.pack("<I", 1)
    with pytest.raises(ValueError, match="no IIOP profile"):
        parse_ior("IOR:" + bytes(data).hex())
