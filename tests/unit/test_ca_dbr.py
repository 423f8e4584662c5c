"""The lean decoder of scalar DBR_TIME / DBR_CTRL answers (ctlshell/backends/ca/_dbr.py)
gives what epicscorelibs' own conversion gives for the same bytes, for every scalar
type: the value, the stamp, the alarm, units, precision, limits and enum labels. The
oracle is epicscorelibs (what aioca.caget returns); the answers are epicscorelibs'
ctypes structures filled with awkward values (a full-length string, non-ASCII text,
negative and extreme numbers, 16 enum labels)."""

from __future__ import annotations

import ctypes
import math

import pytest

from ctlshell.backends.ca import _dbr
from epicscorelibs.ca import dbr

TIME_CODES = range(dbr.DBR_TIME_STRING, dbr.DBR_TIME_DOUBLE + 1)
CTRL_CODES = range(dbr.DBR_CTRL_SHORT, dbr.DBR_CTRL_DOUBLE + 1)
_LIMITS = ("upper_disp_limit", "lower_disp_limit", "upper_alarm_limit", "lower_alarm_limit",
           "upper_warning_limit", "lower_warning_limit", "upper_ctrl_limit", "lower_ctrl_limit")


def _number(ctype: type, k: int) -> float | int:
    """A value of ``ctype`` near its edge, different for each k."""
    if ctype in (ctypes.c_float, ctypes.c_double):
        return [-1.5e30, 2.718281828459045, -0.0, 1e-30, 3.25, 7.0, -8.5, 9.75, 1.0][k % 9]
    bits = 8 * ctypes.sizeof(ctype)
    signed = ctype(-1).value < 0
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return [lo, hi, 0, 1, hi - 1, lo + 1, 42 % (hi + 1), 3, 5][k % 9]


def _filled(code: int, text: bytes) -> ctypes.Structure:
    struct_type = dbr.DbrCodeToType[code]
    raw = struct_type()
    for k, (name, ftype) in enumerate(struct_type._fields_):
        if name.startswith("RISC"):
            continue
        if name == "status":
            raw.status = 3  # HIHI
        elif name == "severity":
            raw.severity = 2
        elif name == "raw_stamp":
            raw.raw_stamp.secs, raw.raw_stamp.nsec = 1_100_000_000, 123_456_789
        elif name == "units":
            raw.units = "µm/s".encode()
        elif name == "precision":
            raw.precision = 4
        elif name == "no_str":
            raw.no_str = 16
        elif name == "raw_strs":
            for i in range(16):
                raw.raw_strs[i].value = (f"état {i}" if i else "x" * 25).encode()
        elif name == "raw_value":
            if issubclass(ftype._type_, ctypes.Array):  # a string: char[40]
                ctypes.memmove(ctypes.addressof(raw.raw_value), text, len(text))
            else:
                raw.raw_value[0] = _number(ftype._type_, k)
        else:
            setattr(raw, name, _number(ftype, k))
    return raw


def _epicscorelibs(raw: ctypes.Structure) -> object:
    """What epicscorelibs' dbr_to_value (type_to_dbr's conversion) gives for a scalar."""
    convert = dbr._convert_str_str if raw.dtype is dbr.str_dtype else dbr._convert_other
    result = convert(raw, 1)
    raw.copy_attributes(result)
    return result


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("text", [b"hello", "Grüße".encode(), b"y" * 39, b""])
@pytest.mark.parametrize("code", TIME_CODES)
def test_a_time_answer_decodes_as_epicscorelibs_decodes_it(code, text):
    raw = _filled(code, text)
    ours = _dbr.decoder(code, 1, "BL:X")(ctypes.addressof(raw))
    theirs = _epicscorelibs(raw)
    assert isinstance(ours, _dbr.Time)
    plain = str(theirs) if isinstance(theirs, str) else (float(theirs) if isinstance(theirs, float) else int(theirs))
    assert _same(ours.value, plain), (ours.value, plain)
    assert ours.timestamp == theirs.timestamp == round(1_100_000_000 + dbr.EPICS_epoch + 0.123456789, 6)
    assert (ours.severity, ours.status) == (theirs.severity, theirs.status) == (2, 3)


@pytest.mark.parametrize("code", CTRL_CODES)
def test_a_ctrl_answer_decodes_as_epicscorelibs_decodes_it(code):
    raw = _filled(code, b"")
    ours = _dbr.decoder(code, 1, "BL:X")(ctypes.addressof(raw))
    theirs = _epicscorelibs(raw)
    assert isinstance(ours, _dbr.Ctrl)
    assert (ours.severity, ours.status) == (theirs.severity, theirs.status)
    assert _same(ours.value, float(theirs) if isinstance(theirs, float) else int(theirs))
    for name in ("units", "precision", *_LIMITS):
        assert getattr(ours, name) == getattr(theirs, name, None), name
    if code == dbr.DBR_CTRL_ENUM:
        assert list(ours.enums) == theirs.enums and len(ours.enums) == 16 and ours.enums[0] == "x" * 25
        assert ours.units is None
    else:
        assert ours.units == "µm/s" and ours.enums is None
    assert (ours.precision == 4) == (code in (dbr.DBR_CTRL_FLOAT, dbr.DBR_CTRL_DOUBLE))


def test_fewer_enum_labels_than_the_room_for_them():
    raw = _filled(dbr.DBR_CTRL_ENUM, b"")
    raw.no_str = 2
    assert _dbr.decoder(dbr.DBR_CTRL_ENUM, 1, "BL:E")(ctypes.addressof(raw)).enums == ("x" * 25, "état 1")


def test_arrays_and_long_strings_keep_epicscorelibs_conversion():
    assert _dbr.decoder(dbr.DBR_TIME_DOUBLE, 10, "BL:W") is None
    assert _dbr.decoder(dbr.DBR_TIME_CHAR, 1, "BL:X.DESC$") is None
    assert _dbr.decoder(dbr.DBR_STSACK_STRING, 1, "BL:X") is None
    assert _dbr.decoder(dbr.DBR_DOUBLE, 1, "BL:X") is None  # a plain (no alarm) form is not read in batches


@pytest.mark.parametrize("form", [dbr.FORMAT_TIME, dbr.FORMAT_CTRL])
@pytest.mark.parametrize("field_type", range(dbr.DBR_STRING, dbr.DBR_DOUBLE + 1))
def test_a_scalars_request_code_is_epicscorelibs_own(field_type, form):
    """What a batch read or a monitor asks libca for a scalar, without type_to_dbr."""
    assert _dbr.lean_code(field_type, 1, "BL:X", form) == dbr._type_to_dbrcode(field_type, form)[0]


def test_no_lean_request_for_arrays_long_strings_or_other_forms():
    assert _dbr.lean_code(dbr.DBR_DOUBLE, 10, "BL:W", dbr.FORMAT_TIME) is None
    assert _dbr.lean_code(dbr.DBR_CHAR, 1, "BL:X.DESC$", dbr.FORMAT_TIME) is None
    assert _dbr.lean_code(dbr.DBR_DOUBLE, 1, "BL:X", dbr.FORMAT_RAW) is None
    assert _dbr.lean_code(dbr.DBR_STSACK_STRING, 1, "BL:X", dbr.FORMAT_TIME) is None
