"""Lean decoding of a scalar's DBR_TIME and DBR_CTRL answers, for the batch reads.

epicscorelibs turns each answer into an ``AugmentedValue``: a ctypes cast, an ``int``,
``float`` or ``str`` subclass, and a dozen attributes set on it (7 µs an answer on a
loaded 2-core machine), which ctlshell then reads back one ``getattr`` at a time. The
answer of a scalar is a fixed C struct: one ``struct.unpack`` of its bytes gives every
field (1.3 µs). A snapshot of 10 000 channels decodes 20 000 answers.

The layouts are not written out a second time: each is built from epicscorelibs' own
ctypes structure of that DBR code (its field names, types and offsets), and checked
against its size. What is not a plain scalar (arrays, a ``$`` long string, a layout
this module does not know) has no decoder here and keeps epicscorelibs' conversion.
Pure: no I/O, no libca call; tested against epicscorelibs' conversion of the same bytes
by ``tests/unit/test_ca_dbr.py``.
"""

from __future__ import annotations

import ctypes
import functools
import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from .. import _dso  # noqa: F401  (first: epicscorelibs.path loads without setuptools)
from epicscorelibs.ca import cadef, dbr

__all__ = ["Ctrl", "Time", "decoder"]

#: seconds from 1970 to the EPICS epoch, 1990 (epicscorelibs' EPICS_epoch)
EPICS_EPOCH = dbr.EPICS_epoch

_CODES = {ctypes.c_int16: "h", ctypes.c_uint16: "H", ctypes.c_int32: "i", ctypes.c_uint32: "I",
          ctypes.c_float: "f", ctypes.c_double: "d", ctypes.c_uint8: "B", ctypes.c_int8: "b"}
_LIMITS = ("upper_disp_limit", "lower_disp_limit", "upper_alarm_limit", "lower_alarm_limit",
           "upper_warning_limit", "lower_warning_limit", "upper_ctrl_limit", "lower_ctrl_limit")


class Time(NamedTuple):
    """A DBR_TIME answer: the value, the server's stamp (POSIX seconds, rounded to the
    microsecond as epicscorelibs does), the alarm severity and status codes."""

    value: Any
    timestamp: float
    severity: int
    status: int


class Ctrl(NamedTuple):
    """A DBR_CTRL answer, under the attribute names of epicscorelibs' ``AugmentedValue``
    (None where the type has no such field)."""

    value: Any
    severity: int
    status: int
    units: str | None = None
    precision: int | None = None
    enums: tuple[str, ...] | None = None
    upper_disp_limit: Any = None
    lower_disp_limit: Any = None
    upper_alarm_limit: Any = None
    lower_alarm_limit: Any = None
    upper_warning_limit: Any = None
    lower_warning_limit: Any = None
    upper_ctrl_limit: Any = None
    lower_ctrl_limit: Any = None


def _text(raw: bytes) -> str:
    """A C string of a fixed-size field, as epicscorelibs decodes it."""
    return raw.split(b"\0", 1)[0].decode("UTF-8", "replace")


def _layout(struct_type: Any) -> tuple[struct.Struct, dict[str, int], dict[str, int]] | None:
    """``(Struct, index of each field, size of each string field)`` of an epicscorelibs
    DBR structure, or None if a field is of a kind this module does not unpack (ctypes'
    own structure types: Any, as its stubs do not describe them)."""
    fmt, at, n = "=", 0, 0
    index: dict[str, int] = {}
    sizes: dict[str, int] = {}
    ftype: Any
    for name, ftype in struct_type._fields_:
        offset = getattr(struct_type, name).offset
        if offset < at:
            return None
        fmt += f"{offset - at}x" if offset > at else ""
        if issubclass(ftype, ctypes.Structure):  # the stamp: {secs, nsec}
            if [t for _, t in ftype._fields_] != [ctypes.c_uint32, ctypes.c_uint32]:
                return None
            fmt += "II"
            index[name] = n
            n += 2
        elif issubclass(ftype, ctypes.Array):
            inner, length = ftype._type_, ftype._length_
            if issubclass(inner, ctypes.Array):  # strings: char[40][1], char[26][16]
                sizes[name] = inner._length_
                fmt += f"{length * inner._length_}s"
            elif inner is ctypes.c_char:
                sizes[name] = length
                fmt += f"{length}s"
            elif inner in _CODES and length == 1:
                fmt += _CODES[inner]
            else:
                return None
            index[name] = n
            n += 1
        elif ftype in _CODES:
            fmt += _CODES[ftype]
            index[name] = n
            n += 1
        else:
            return None
        at = offset + ctypes.sizeof(ftype)
    fmt += f"{ctypes.sizeof(struct_type) - at}x" if ctypes.sizeof(struct_type) > at else ""
    packer = struct.Struct(fmt)
    if packer.size != ctypes.sizeof(struct_type) or "raw_value" not in index:
        return None
    return packer, index, sizes


def _time_decoder(struct_type: type[ctypes.Structure]) -> Callable[[int], Time] | None:
    layout = _layout(struct_type)
    if layout is None or not {"status", "severity", "raw_stamp"} <= set(layout[1]):
        return None
    packer, index, sizes = layout
    size, unpack = packer.size, packer.unpack
    i_status, i_severity, i_stamp, i_value = (index[k] for k in ("status", "severity", "raw_stamp", "raw_value"))
    is_text = "raw_value" in sizes
    epoch = EPICS_EPOCH

    def decode(address: int) -> Time:
        f = unpack(ctypes.string_at(address, size))
        value = _text(f[i_value]) if is_text else f[i_value]
        return Time(value, round(f[i_stamp] + epoch + f[i_stamp + 1] * 1e-9, 6), f[i_severity], f[i_status])

    return decode


def _ctrl_decoder(struct_type: type[ctypes.Structure]) -> Callable[[int], Ctrl] | None:
    layout = _layout(struct_type)
    if layout is None or not {"status", "severity"} <= set(layout[1]):
        return None
    packer, index, sizes = layout
    size, unpack = packer.size, packer.unpack
    i_value = index["raw_value"]
    is_text = "raw_value" in sizes
    numbers = [(k, index[k]) for k in ("severity", "status", "precision", *_LIMITS) if k in index]
    i_units = index.get("units")
    enums = (index["raw_strs"], sizes["raw_strs"], index["no_str"]) if "raw_strs" in index and "no_str" in index \
        else None

    def decode(address: int) -> Ctrl:
        f = unpack(ctypes.string_at(address, size))
        fields: dict[str, Any] = {k: f[i] for k, i in numbers}
        if i_units is not None:
            fields["units"] = _text(f[i_units])
        if enums is not None:
            raw, width, count = f[enums[0]], enums[1], f[enums[2]]
            fields["enums"] = tuple(_text(raw[k * width:(k + 1) * width]) for k in range(max(count, 0)))
        return Ctrl(_text(f[i_value]) if is_text else f[i_value], **fields)

    return decode


@functools.cache
def _decoder_of(code: int) -> Callable[[int], Any] | None:
    struct_type = dbr.DbrCodeToType.get(code)
    if struct_type is None:
        return None
    if dbr.DBR_TIME_STRING <= code <= dbr.DBR_TIME_DOUBLE:
        return _time_decoder(struct_type)
    if dbr.DBR_CTRL_SHORT <= code <= dbr.DBR_CTRL_DOUBLE:  # a string's CTRL read is a DBR_TIME_STRING
        return _ctrl_decoder(struct_type)
    return None


def decoder(code: int, count: int, name: str) -> Callable[[int], Any] | None:
    """The lean decoder of answers of DBR ``code`` for a channel of ``count`` elements
    named ``name``: a function of the answer's address giving a :class:`Time` or a
    :class:`Ctrl`; None where epicscorelibs' conversion is to be used (an array, a char
    PV whose name ends in ``$``, which epicscorelibs reads as a long string)."""
    if count != 1 or name.endswith("$"):
        return None
    return _decoder_of(code)


def lean_code(field_type: int, count: int, name: str, form: int) -> int | None:
    """The DBR code to request for a channel of DBF ``field_type`` with ``count``
    elements named ``name``, read as ``form`` (``FORMAT_TIME`` or ``FORMAT_CTRL``),
    when its answer has a lean decoder; None when epicscorelibs' conversion is to be
    used (the same code as epicscorelibs' ``type_to_dbr``, without its converter)."""
    if count != 1 or name.endswith("$") or not dbr.DBR_STRING <= field_type <= dbr.DBR_DOUBLE:
        return None
    if form == dbr.FORMAT_TIME:
        code = dbr.DBR_TIME_STRING + field_type
    elif form == dbr.FORMAT_CTRL:  # a string has no CTRL form: its richest is TIME
        code = dbr.DBR_TIME_STRING if field_type == dbr.DBR_STRING else dbr.DBR_CTRL_SHORT - dbr.DBR_SHORT + field_type
    else:
        return None
    return code if _decoder_of(code) is not None else None


def request_of(channel: Any, name: str, form: int) -> tuple[int, Callable[[int], Any] | None,
                                                             Callable[[Any, int, int], Any] | None]:
    """What to ask libca for a read or a monitor of a connected ``channel`` named
    ``name`` in ``form``: ``(code, lean, convert)``. A scalar gets its lean decoder and
    no converter (:func:`converter` makes one if an answer is not that scalar); any
    other channel epicscorelibs' converter, from ``type_to_dbr``. Raises
    ``cadef.Disconnected`` if the channel is down."""
    code = lean_code(cadef.ca_field_type(channel), cadef.ca_element_count(channel), name, form)
    if code is not None:
        return code, _decoder_of(code), None
    code, convert = dbr.type_to_dbr(channel, None, form)
    return code, None, convert


def converter(channel: Any, form: int) -> Callable[[Any, int, int], Any]:
    """epicscorelibs' converter of ``channel``'s answers in ``form`` (for an answer a
    lean decoder was not made for: its PV changed type or length meanwhile)."""
    return dbr.type_to_dbr(channel, None, form)[1]
