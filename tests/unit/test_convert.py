"""Unit tests for ctlshell.core._convert: ``coerce`` and ``infer_dtype``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ctlshell.core import Metadata, ValidationError, coerce, infer_dtype

DOUBLE = Metadata(dtype="double")
LONG = Metadata(dtype="long")


# -- infer_dtype ---------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (1, ("long", 1)),
    (True, ("long", 1)),
    (np.int16(3), ("long", 1)),
    (1.5, ("double", 1)),
    (np.float32(1.5), ("double", 1)),
    ("hello", ("string", 1)),
    ([1, 2, 3], ("long", 3)),
    ((1.0, 2.0), ("double", 2)),
    (np.arange(7, dtype=np.uint8), ("long", 7)),
    (np.zeros(5), ("double", 5)),
    ([True, False], ("long", 2)),
])
def test_infer_dtype(value: object, expected: tuple[str, int]) -> None:
    assert infer_dtype(value) == expected


def test_infer_dtype_with_choices_is_enum_whatever_the_value() -> None:
    assert infer_dtype("Off", choices=("Off", "On")) == ("enum", 1)
    assert infer_dtype(1, choices=("Off", "On")) == ("enum", 1)


@pytest.mark.parametrize("value, match", [
    ([], "non-empty one-dimensional"),
    (np.zeros((2, 2)), "non-empty one-dimensional"),
    ([[1, 2], [3, 4]], "non-empty one-dimensional"),
    (["a", "b"], "array elements must be numbers"),
    ([1 + 2j], "array elements must be numbers"),
    (None, "cannot host a value of type NoneType"),
    ({"a": 1}, "cannot host a value of type dict"),
    (object(), "cannot host a value of type object"),
])
def test_infer_dtype_refuses(value: object, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        infer_dtype(value)


# -- scalars -------------------------------------------------------------------
def test_validation_error_is_a_value_error() -> None:
    assert issubclass(ValidationError, ValueError)


@pytest.mark.parametrize("value, expected", [
    (1, 1.0), (2.5, 2.5), ("3.25", 3.25), (b"4", 4.0), (np.float32(0.5), 0.5), ([7], 7.0),
    (np.array([8.0]), 8.0),
])
def test_double_accepts_numbers_and_numeric_text(value: object, expected: float) -> None:
    out = coerce(value, DOUBLE)
    assert out == expected
    assert type(out) is float


@pytest.mark.parametrize("value", ["abc", None, object(), "1,5"])
def test_double_refuses_non_numbers_and_names_the_channel(value: object) -> None:
    with pytest.raises(ValidationError, match=r"^BL:X: .* is not a number \(double expected\)$"):
        coerce(value, DOUBLE, "BL:X")


def test_scalar_refuses_several_elements() -> None:
    with pytest.raises(ValidationError, match="expected one double, got 3 elements"):
        coerce([1, 2, 3], DOUBLE, "X")


def test_default_name_in_message_is_value() -> None:
    with pytest.raises(ValidationError, match="^value: "):
        coerce("x", DOUBLE)


@pytest.mark.parametrize("value, expected", [
    (5, 5), ("12", 12), ("0x10", 16), (3.0, 3), (np.int64(-7), -7), (True, 1), ([4], 4),
])
def test_long_accepts_whole_numbers(value: object, expected: int) -> None:
    out = coerce(value, LONG)
    assert out == expected
    assert type(out) is int


@pytest.mark.parametrize("value", [1.5, "1.5", "ten", float("nan"), float("inf"), None])
def test_long_refuses_non_whole_numbers(value: object) -> None:
    with pytest.raises(ValidationError, match="is not a (whole )?number"):
        coerce(value, LONG, "N")


@pytest.mark.parametrize("dtype, lo, hi", [
    ("long", -(2**31), 2**31 - 1),
    ("int", -(2**31), 2**31 - 1),
    ("short", -(2**15), 2**15 - 1),
    ("char", 0, 255),
])
def test_int_ranges(dtype: str, lo: int, hi: int) -> None:
    meta = Metadata(dtype=dtype)
    assert coerce(lo, meta) == lo
    assert coerce(hi, meta) == hi
    with pytest.raises(ValidationError, match=f"{hi + 1} does not fit a {dtype} \\({lo}..{hi}\\)"):
        coerce(hi + 1, meta)
    with pytest.raises(ValidationError, match=f"does not fit a {dtype}"):
        coerce(lo - 1, meta)


def test_control_limits_are_inclusive_and_message_has_units() -> None:
    meta = Metadata(dtype="double", control_limits=(-1.0, 10.0), units="mm")
    assert coerce(-1.0, meta) == -1.0
    assert coerce(10.0, meta) == 10.0
    with pytest.raises(ValidationError, match=r"^M: 10.5 mm is outside the control limits \[-1.0, 10.0\] mm$"):
        coerce(10.5, meta, "M")
    with pytest.raises(ValidationError, match="outside the control limits"):
        coerce(-1.01, meta, "M")
    with pytest.raises(ValidationError, match="outside the control limits"):
        coerce(float("inf"), meta, "M")


def test_control_limits_apply_to_integers() -> None:
    meta = Metadata(dtype="long", control_limits=(0, 100))
    assert coerce(100, meta) == 100
    with pytest.raises(ValidationError, match=r"101 is outside the control limits \[0, 100\]"):
        coerce(101, meta)


def test_equal_control_limits_mean_no_limits() -> None:
    meta = Metadata(dtype="double", control_limits=(0.0, 0.0))
    assert coerce(1e9, meta) == 1e9
    assert coerce(-5, meta) == -5.0
    assert coerce(7, Metadata(dtype="long", control_limits=(3, 3))) == 7


def test_nan_is_accepted_without_limits_and_refused_with_limits() -> None:
    assert math.isnan(coerce(float("nan"), DOUBLE))
    with pytest.raises(ValidationError, match="NaN is outside the control limits"):
        coerce(float("nan"), Metadata(control_limits=(0.0, 1.0)))


def test_nan_is_accepted_when_equal_limits_mean_no_limits() -> None:
    assert math.isnan(coerce(float("nan"), Metadata(dtype="double", control_limits=(0.0, 0.0))))


def test_long_refuses_numpy_float32_with_fraction() -> None:
    with pytest.raises(ValidationError, match="not a whole number"):
        coerce(np.float32(1.5), LONG, "N")


# -- enums ---------------------------------------------------------------------
ENUM = Metadata(dtype="enum", choices=("Off", "On", "Fault"))


@pytest.mark.parametrize("value, expected", [
    ("Off", 0), ("On", 1), ("Fault", 2), (2, 2), ("1", 1), (1.0, 1), (np.int32(0), 0),
])
def test_enum_by_choice_or_index(value: object, expected: int) -> None:
    assert coerce(value, ENUM) == expected


@pytest.mark.parametrize("value", ["on", "Standby", 3, -1, 1.5, True, None])
def test_enum_refuses_unknown_choice_or_index(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        coerce(value, ENUM, "MODE")
    msg = str(exc.value)
    assert msg.startswith("MODE: ")
    assert "['Off', 'On', 'Fault']" in msg


def test_enum_choice_that_looks_like_a_number_wins_over_index() -> None:
    meta = Metadata(dtype="enum", choices=("1", "0"))
    assert coerce("0", meta) == 1


# -- strings -------------------------------------------------------------------
STRING = Metadata(dtype="string")


def test_string_accepts_up_to_39_bytes() -> None:
    s = "x" * 39
    assert coerce(s, STRING) == s
    assert coerce(b"abc", STRING) == "abc"
    with pytest.raises(ValidationError, match="string longer than 39 bytes"):
        coerce("x" * 40, STRING, "S")


def test_string_limit_counts_utf8_bytes_not_characters() -> None:
    s = "é" * 20  # 20 characters, 40 bytes
    with pytest.raises(ValidationError, match="longer than 39 bytes"):
        coerce(s, STRING)
    assert coerce("é" * 19, STRING) == "é" * 19


@pytest.mark.parametrize("value", [5, 1.5, None, ["a"]])
def test_string_refuses_non_strings(value: object) -> None:
    with pytest.raises(ValidationError, match=f"S: expected a string, got {type(value).__name__}"):
        coerce(value, STRING, "S")


# -- arrays --------------------------------------------------------------------
WAVE = Metadata(dtype="double", count=4)
IWAVE = Metadata(dtype="long", count=4)


def test_array_result_is_a_read_only_copy() -> None:
    src = np.array([1.0, 2.0])
    out = coerce(src, WAVE)
    assert isinstance(out, np.ndarray)
    assert out.dtype == np.float64
    assert not out.flags.writeable
    with pytest.raises(ValueError):
        out[0] = 9.0
    src[0] = 42.0  # the caller's array stays theirs
    assert out[0] == 1.0


def test_array_types_follow_dtype() -> None:
    assert coerce([1, 2], WAVE).dtype == np.float64
    assert coerce([1, 2], IWAVE).dtype == np.int32
    np.testing.assert_array_equal(coerce((1, 2, 3, 4), IWAVE), [1, 2, 3, 4])


def test_array_scalar_becomes_one_element() -> None:
    out = coerce(3.0, WAVE)
    assert out.shape == (1,)


def test_array_size_limit() -> None:
    with pytest.raises(ValidationError, match=r"W: 5 elements do not fit \(at most 4\)"):
        coerce([1, 2, 3, 4, 5], WAVE, "W")


def test_array_refuses_two_dimensions_and_non_numbers() -> None:
    with pytest.raises(ValidationError, match=r"one-dimensional array, got shape \(2, 2\)"):
        coerce([[1, 2], [3, 4]], WAVE)
    with pytest.raises(ValidationError, match=r"expected up to 4 numbers \(double\[\]\)"):
        coerce(["a", "b"], WAVE)


def test_int_array_refuses_fractions() -> None:
    with pytest.raises(ValidationError):
        coerce([1.5, 2.7], IWAVE)


def test_int_array_out_of_range_list_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        coerce([2**40], IWAVE)


def test_int_array_out_of_range_ndarray_is_refused() -> None:
    with pytest.raises(ValidationError):
        coerce(np.array([2**40], dtype=np.int64), IWAVE)
