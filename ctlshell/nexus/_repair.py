"""Clear the "open for writing" flags a crashed SWMR writer leaves in a file (what
HDF5's ``h5clear -s`` does), so that any HDF5 reader opens it again.

A file whose writer was killed holds every flushed record, and SWMR readers
(``h5py.File(path, "r", swmr=True)``) open it as it is; plain readers refuse it until
the flags are cleared. Only superblock versions 2 and 3 carry these flags; the
superblock checksum (Jenkins lookup3, as HDF5 computes it) is checked before and
rewritten after, so a file that is not what we expect is left untouched.
"""

from __future__ import annotations

import struct

from ..core import ValidationError

__all__ = ["clear_write_flags", "lookup3"]

_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_M = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M


def lookup3(data: bytes, initval: int = 0) -> int:
    """Bob Jenkins' lookup3 ``hashlittle`` (HDF5's ``H5_checksum_lookup3``)."""
    length = len(data)
    a = b = c = (0xDEADBEEF + length + initval) & _M
    i = 0
    while length - i > 12:
        a = (a + int.from_bytes(data[i:i + 4], "little")) & _M
        b = (b + int.from_bytes(data[i + 4:i + 8], "little")) & _M
        c = (c + int.from_bytes(data[i + 8:i + 12], "little")) & _M
        a = (a - c) & _M; a ^= _rot(c, 4); c = (c + b) & _M  # noqa: E702 (the mix, as published)
        b = (b - a) & _M; b ^= _rot(a, 6); a = (a + c) & _M  # noqa: E702
        c = (c - b) & _M; c ^= _rot(b, 8); b = (b + a) & _M  # noqa: E702
        a = (a - c) & _M; a ^= _rot(c, 16); c = (c + b) & _M  # noqa: E702
        b = (b - a) & _M; b ^= _rot(a, 19); a = (a + c) & _M  # noqa: E702
        c = (c - b) & _M; c ^= _rot(b, 4); b = (b + a) & _M  # noqa: E702
        i += 12
    tail = data[i:]
    if not tail:
        return c
    tail = tail + b"\0" * (12 - len(tail))
    a = (a + int.from_bytes(tail[0:4], "little")) & _M
    b = (b + int.from_bytes(tail[4:8], "little")) & _M
    c = (c + int.from_bytes(tail[8:12], "little")) & _M
    c ^= b; c = (c - _rot(b, 14)) & _M  # noqa: E702 (the final mix)
    a ^= c; a = (a - _rot(c, 11)) & _M  # noqa: E702
    b ^= a; b = (b - _rot(a, 25)) & _M  # noqa: E702
    c ^= b; c = (c - _rot(b, 16)) & _M  # noqa: E702
    a ^= c; a = (a - _rot(c, 4)) & _M  # noqa: E702
    b ^= a; b = (b - _rot(a, 14)) & _M  # noqa: E702
    c ^= b; c = (c - _rot(b, 24)) & _M  # noqa: E702
    return c


def clear_write_flags(path: str) -> bool:
    """Clear the file-consistency flags of ``path``; True if there were any.

    Do not call it while a writer still has the file open.

    Raises
    ------
    ValidationError
        Not an HDF5 file with a version 2/3 superblock at offset 0, or a bad checksum.
    """
    with open(path, "r+b") as f:
        head = f.read(64)
        if head[:8] != _SIGNATURE or len(head) < 12 or head[8] not in (2, 3):
            raise ValidationError(f"{path}: not an HDF5 file with a version 2/3 superblock")
        size = 12 + 4 * head[9]
        body, (stored,) = head[:size], struct.unpack("<I", head[size:size + 4])
        if lookup3(body) != stored:
            raise ValidationError(f"{path}: superblock checksum does not match; left untouched")
        if body[11] == 0:
            return False
        body = body[:11] + b"\0" + body[12:]
        f.seek(0)
        f.write(body + struct.pack("<I", lookup3(body)))
    return True
