"""Pure handling of Tango ``DevEncoded`` values: a format name and bytes.

A DevEncoded attribute (LImA's ``video_last_image``, camera images, custom
payloads) reads as :class:`Encoded`; :meth:`Encoded.image` decodes LImA's
``VIDEO_IMAGE`` format (a 32-byte big-endian header, then the pixels) into a
2-D numpy array. :func:`check_encoded` checks what a user writes. No pytango.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

import numpy as np

from ...core import ValidationError

__all__ = ["Encoded", "check_encoded", "decode_image", "to_encoded"]

#: LImA's video header: magic, header version, mode, frame number, width, height,
#: endianness, header size, two padding words (network byte order)
VIDEO_HEADER = struct.Struct("!IHHqiiHHHH")
VIDEO_MAGIC = 0x5644454F  # b"VDEO"
#: LImA video modes ctlshell decodes (Y8, Y16, Y32, Y64); colour modes are kept as bytes
VIDEO_MODES = {0: "u1", 1: "u2", 2: "i4", 3: "i8"}


class Encoded(NamedTuple):
    """A DevEncoded value: ``format`` (e.g. ``"VIDEO_IMAGE"``) and its ``data`` bytes."""

    format: str
    data: bytes

    def image(self) -> np.ndarray:
        """The image this value holds (LImA's ``VIDEO_IMAGE``), as a read-only 2-D array.

        Raises
        ------
        ValidationError
            Not an image format ctlshell decodes, or a truncated or malformed one.
        """
        return decode_image(self.format, self.data)


def to_encoded(value: Any) -> Encoded:
    """pytango's ``(format, bytes or uint8 array)`` read of a DevEncoded as :class:`Encoded`."""
    fmt, data = value
    return Encoded(str(fmt), data.tobytes() if isinstance(data, np.ndarray) else bytes(data))


def check_encoded(value: Any, where: str) -> tuple[str, bytes]:
    """``(format, bytes)`` as pytango writes a DevEncoded; raises ValidationError otherwise."""
    try:
        fmt, data = value
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: a DevEncoded value is a pair (format, bytes), got {value!r:.60}") from None
    if not isinstance(fmt, str) or not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValidationError(f"{where}: a DevEncoded value is (str format, bytes data), got "
                              f"({type(fmt).__name__}, {type(data).__name__})")
    return fmt, bytes(data)


def decode_image(fmt: str, data: bytes) -> np.ndarray:
    """Decode LImA's ``VIDEO_IMAGE`` (monochrome modes) into a 2-D array (see :class:`Encoded`)."""
    if fmt != "VIDEO_IMAGE":
        raise ValidationError(f"cannot decode DevEncoded format {fmt!r} as an image (only LImA's VIDEO_IMAGE)")
    if len(data) < VIDEO_HEADER.size:
        raise ValidationError(f"VIDEO_IMAGE of {len(data)} bytes: shorter than its {VIDEO_HEADER.size}-byte header")
    magic, _version, mode, _frame, width, height, endian, header_size, _, _ = VIDEO_HEADER.unpack_from(data)
    if magic != VIDEO_MAGIC:
        raise ValidationError(f"VIDEO_IMAGE: bad magic {magic:#x} (expected {VIDEO_MAGIC:#x})")
    if mode not in VIDEO_MODES:
        raise ValidationError(f"VIDEO_IMAGE: video mode {mode} is not a monochrome mode ctlshell decodes")
    dtype = np.dtype(VIDEO_MODES[mode]).newbyteorder(">" if endian else "<")
    size = width * height * dtype.itemsize
    if width < 0 or height < 0 or len(data) < header_size + size:
        raise ValidationError(f"VIDEO_IMAGE: {width}x{height} {dtype} needs {header_size + size} bytes, "
                              f"got {len(data)}")
    image = np.frombuffer(data, dtype, width * height, header_size).reshape(height, width)
    return image.astype(dtype.newbyteorder("="), copy=False)
