"""NXSDataWriter's built-in decoders of Tango ``DevEncoded`` values, reimplemented:
UTF8 (text), UINT32 (packed native uint32) and LIMA's VIDEO_IMAGE (a 32-byte header,
then the pixels). Pure: numpy and struct only; no class named in a record is loaded
(:mod:`._plugins` maps the registered names onto these).
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..core import ValidationError

__all__ = ["BUILTIN", "decode", "is_encoded"]

#: encoding names NXSDataWriter's DecoderPool knows -> decoder
BUILTIN = {"UTF8": "UTF8", "UINT32": "UINT32", "LIMA_VIDEO_IMAGE": "VIDEO_IMAGE", "VIDEO_IMAGE": "VIDEO_IMAGE",
           "DATA_ARRAY": "DATA_ARRAY"}
_VIDEO_HEADER = "!IHHqiiHHHH"
_VIDEO_DTYPES = {0: "u1", 1: "u2", 2: "u4", 3: "u8"}


def is_encoded(value: Any) -> bool:
    """A Tango DevEncoded value: ``(format, bytes)``."""
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) \
        and isinstance(value[1], (bytes, bytearray))


def _video(data: bytes, where: str) -> np.ndarray:
    size = struct.calcsize(_VIDEO_HEADER)
    if len(data) < size:
        raise ValidationError(f"{where}: VIDEO_IMAGE data shorter than its {size}-byte header")
    _, _, mode, _, width, height, endian, _, _, _ = struct.unpack(_VIDEO_HEADER, data[:size])
    if mode not in _VIDEO_DTYPES:
        raise ValidationError(f"{where}: VIDEO_IMAGE mode {mode} is not one of {sorted(_VIDEO_DTYPES)}")
    dtype = np.dtype(_VIDEO_DTYPES[mode])
    pixels = np.frombuffer(data[size:size + width * height * dtype.itemsize], dtype=dtype)
    if pixels.size != width * height:
        raise ValidationError(f"{where}: VIDEO_IMAGE of {width}x{height} has {pixels.size} pixels")
    image = pixels.reshape(height, width)
    native = 1 if sys.byteorder == "little" else 0  # the header's endianness: 1 little, 0 big (as LIMA)
    return image.byteswap() if endian not in (native,) and dtype.itemsize > 1 else image.copy()


def decode(value: tuple[str, bytes], encoding: str | None, registered: Mapping[str, str], where: str) -> Any:
    """The value a DevEncoded ``(format, bytes)`` stands for.

    Parameters
    ----------
    value : tuple
        What Tango returned.
    encoding : str, optional
        The ``encoding`` of the source's ``<device>``; else the value's own format.
    registered : mapping
        Names registered by a record's ``"decoders"`` key -> built-in decoder.
    where : str
        Names the field in error messages.

    Raises
    ------
    ValidationError
        An encoding no built-in decoder reads, or data that does not fit it.
    """
    name = (encoding or value[0]).strip()
    kind = registered.get(name) or BUILTIN.get(name.upper())
    data = bytes(value[1])
    if kind == "UTF8":
        return data.decode("utf-8", errors="replace")
    if kind == "UINT32":
        if len(data) % 4:
            raise ValidationError(f"{where}: UINT32 data of {len(data)} bytes is not a whole number of values")
        return np.frombuffer(data, dtype=np.dtype("=u4")).copy()
    if kind == "VIDEO_IMAGE":
        return _video(data, where)
    raise ValidationError(f"{where}: no decoder for the encoding {name!r} (ctlshell decodes "
                          f"{', '.join(sorted(BUILTIN))} and names registered for them under \"decoders\")")
