"""Unit tests of the pure parts of ctlshell.proxies: Value arithmetic (units,
timestamps, descriptors), Hash, descriptors and their local validation. No sockets."""

from __future__ import annotations

import numpy as np
import pint
import pytest

from ctlshell.core import Metadata, ValidationError
from ctlshell.proxies import Descriptor, Hash, Schema, Value, parse_unit, unit

POS = Descriptor("position", Metadata(units="m", control_limits=(-1.0, 1.0)))


def test_arithmetic_takes_the_newest_timestamp_and_drops_the_descriptor() -> None:
    a = Value(1.0, 100.0, POS)
    b = Value(20.0, 200.0, units=unit.mm)
    assert a.descriptor is POS and a.units == unit.m
    for derived in (a + b, b + a, a - b, a * b, a / b):
        assert derived.timestamp.toTimestamp() == 200.0 and derived.descriptor is None
    assert (a + b).to(unit.mm).value == pytest.approx(1020.0)
    assert (a * 3).timestamp.toTimestamp() == 100.0 and (3 * a).timestamp.toTimestamp() == 100.0 and (-a).timestamp.toTimestamp() == 100.0
    assert (5 * unit.mm + a).timestamp.toTimestamp() == 100.0  # a pint quantity on the left
    assert Value(1.0).timestamp is None and (Value(1.0) + 1).timestamp is None


def test_incompatible_units_raise() -> None:
    a = Value(1.0, 1.0, POS)
    with pytest.raises(pint.DimensionalityError):
        a + Value(1.0, 2.0, units=unit.s)
    with pytest.raises(pint.DimensionalityError):
        a + 3 * unit.s


def test_numpy_keeps_units_and_timestamp() -> None:
    arr = Value(np.arange(4.0), 50.0, units=unit.mm)
    for derived in (np.sqrt(arr * arr), arr.sum(), arr[1:], np.mean(arr), arr.T, arr * 2):
        assert derived.timestamp.toTimestamp() == 50.0 and derived.descriptor is None
    assert np.mean(arr).units == unit.mm and np.mean(arr).value == 1.5
    assert list(arr[1:].value) == [1.0, 2.0, 3.0]


def test_comparisons_unset_and_bare_values() -> None:
    a = Value(1.0, 1.0, POS)
    assert a > 0.5 * unit.m and a == 1000 * unit.mm and not a < 0.5 * unit.m
    unset = Value(None, None, POS)
    assert unset == None and not unset.is_set and unset.descriptor is POS  # noqa: E711
    assert list(range(Value(3, 1.0))) == [0, 1, 2]
    assert Value("text", 5.0).value == "text" and Value("text").units is None
    assert "position" in repr(a) and "m" in repr(a)


def test_validate_converts_units_and_checks_before_sending() -> None:
    assert POS.validate(5 * unit.mm) == pytest.approx(0.005)
    assert POS.validate(0.25) == 0.25  # a bare number is in the property's unit
    assert POS.validate(Value(500.0, 1.0, units=unit.mm)) == pytest.approx(0.5)
    with pytest.raises(pint.DimensionalityError):
        POS.validate(3 * unit.s)
    with pytest.raises(ValidationError, match="limits"):
        POS.validate(2 * unit.m)
    with pytest.raises(ValidationError, match="not a number"):
        POS.validate("far")
    ro = Descriptor("counter", Metadata(dtype="long", access="r"))
    with pytest.raises(ValidationError, match="read-only"):
        ro.validate(1)
    nounit = Descriptor("gain", Metadata())
    assert nounit.validate(2 * unit.dimensionless) == 2.0
    with pytest.raises(pint.DimensionalityError):
        nounit.validate(2 * unit.mm)
    i32 = Descriptor("n", Metadata(dtype="long"))
    with pytest.raises(ValidationError):
        i32.validate(2**40)
    with pytest.raises(ValidationError):
        i32.validate(1.5)


def test_descriptor_types_keep_widths() -> None:
    assert Descriptor("a", Metadata(dtype="long")).value_type == "INT32"
    assert Descriptor("a", Metadata(dtype="float")).value_type == "FLOAT"
    assert Descriptor("a", Metadata(dtype="int64")).value_type == "INT64"
    assert Descriptor("a", Metadata(dtype="double", count=8)).value_type == "VECTOR_DOUBLE"
    assert Descriptor("a", Metadata(dtype="short")).numpy_type is np.int16
    assert parse_unit("K/s") == unit.K / unit.s and parse_unit("arb. units") is None and parse_unit("") is None


def test_schema_hash() -> None:
    schema = Schema.from_metadata("ca://X:", {"position": POS.metadata}, {"home": "drive to zero"})
    h = schema.to_hash()
    assert h["position.valueType"] == "DOUBLE" and h["position.unitSymbol"] == "m"
    assert (h["position.minInc"], h["position.maxInc"]) == (-1.0, 1.0)
    assert h["home.displayType"] == "Slot"
    with pytest.raises(ValidationError, match="both"):
        Schema.from_metadata("ca://X:", {"home": POS.metadata}, {"home": ""})


def test_hash_tree_attributes_and_widths() -> None:
    h = Hash("a.b.c", 1, "i64", np.int64(5), "f32", np.float32(1.5), "v", np.arange(3, dtype=np.int16))
    assert h["a"]["b"]["c"] == 1 and h.paths(intermediate=False) == ["a.b.c", "i64", "f32", "v"]
    assert [h.type_of(p) for p in h.paths(intermediate=False)] == ["INT32", "INT64", "FLOAT", "VECTOR_INT16"]
    assert h.type_of("a") == "HASH" and Hash("big", 2**40).type_of("big") == "INT64"
    h["i64", "unit"] = "m"
    attrs = h["i64", ...]
    attrs["tid"] = 7  # the attribute dict is live
    assert h["i64", "tid"] == 7 and h.paths()[:3] == ["a.b.c", "a.b", "a"]  # Karabo's order
    other = Hash("a.b.c", 1, "i64", np.int64(5), "f32", np.float32(1.5), "v", np.arange(3, dtype=np.int16))
    assert h != other and not h.fullyEqual(other)  # attributes count, as Karabo's ==
    other["i64", ...] = {"unit": "m", "tid": 7}
    assert h == other and h.fullyEqual(other)
    h["i64"] = 6  # overwriting keeps the position
    assert list(h) == ["a", "i64", "f32", "v"]
    assert h.pop("f32") == np.float32(1.5) and "f32" not in h
    with pytest.raises(KeyError):
        h["nope"]
    with pytest.raises(ValueError):
        Hash("odd")
    assert Hash({"x": 1})["x"] == 1
