"""Checking and coercing values for a channel of known :class:`Metadata`.

Pure: a value and metadata in, the value as the channel stores it out, or a
:class:`~ctlshell.core.ValidationError` that names the problem. Used before anything
is written, so a refused value changes nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._errors import ValidationError
from ._model import Metadata

__all__ = ["coerce", "infer_dtype"]

_FLOAT_TYPES = ("double", "float")
_INT_TYPES = ("long", "int", "short", "char")
_INT_RANGE = {"long": (-(2**31), 2**31 - 1), "int": (-(2**31), 2**31 - 1),
              "short": (-(2**15), 2**15 - 1), "char": (0, 255),
              # Tango's further integer types (their Metadata.dtype names)
              "ushort": (0, 2**16 - 1), "ulong": (0, 2**32 - 1), "uchar": (0, 255),
              "long64": (-(2**63), 2**63 - 1), "ulong64": (0, 2**64 - 1), "boolean": (0, 1)}
_WIDE = {"ulong": np.int64, "long64": np.int64, "ulong64": np.uint64}  # kept at their width
MAX_STRING = 40  # a CA DBR_STRING holds 40 bytes including the terminator


def infer_dtype(value: Any, choices: object = None) -> tuple[str, int]:
    """Native type and element count for a value given to ``host()``.

    Returns
    -------
    (dtype, count)

    Raises
    ------
    ValidationError
        For a value no control system can carry (a dict, None, an empty list).
    """
    if choices is not None:
        return "enum", 1
    if isinstance(value, bool):
        return "long", 1
    if isinstance(value, (int, np.integer)):
        return "long", 1
    if isinstance(value, (float, np.floating)):
        return "double", 1
    if isinstance(value, str):
        return "string", 1
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.ndim != 1 or arr.size == 0:
            raise ValidationError("an array PV needs a non-empty one-dimensional sequence of numbers")
        if arr.dtype.kind in "iub":
            return "long", int(arr.size)
        if arr.dtype.kind == "f":
            return "double", int(arr.size)
        raise ValidationError(f"array elements must be numbers, not {arr.dtype}")
    raise ValidationError(f"cannot host a value of type {type(value).__name__}; "
                          "use a number, a string, an enum choice or a 1-D array")


def _scalar_number(value: Any, meta: Metadata, name: str) -> float | int:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            value = float(value) if meta.dtype in _FLOAT_TYPES else int(value, 0)
        except ValueError:
            raise ValidationError(f"{name}: {value!r} is not a number ({meta.dtype} expected)") from None
    if isinstance(value, (np.ndarray, list, tuple)):
        arr = np.asarray(value).ravel()
        if arr.size != 1:
            raise ValidationError(f"{name}: expected one {meta.dtype}, got {arr.size} elements")
        value = arr[0].item()
    if meta.dtype in _FLOAT_TYPES:
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{name}: {value!r} is not a number ({meta.dtype} expected)") from None
        limits = meta.control_limits
        if math.isnan(x) and limits is not None and limits[0] != limits[1]:
            raise ValidationError(f"{name}: NaN is outside the control limits {meta.control_limits}")
        _check_limits(x, meta, name)
        return x
    if isinstance(value, (float, np.floating)) and not float(value).is_integer():
        raise ValidationError(f"{name}: {value!r} is not a whole number ({meta.dtype} expected)")
    try:
        i = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"{name}: {value!r} is not a whole number ({meta.dtype} expected)") from None
    if meta.dtype not in _INT_RANGE:
        raise ValidationError(f"{name}: values of type {meta.dtype} cannot be written")
    lo, hi = _INT_RANGE[meta.dtype]
    if not lo <= i <= hi:
        raise ValidationError(f"{name}: {i} does not fit a {meta.dtype} ({lo}..{hi})")
    _check_limits(i, meta, name)
    return i


def _check_limits(x: float, meta: Metadata, name: str) -> None:
    limits = meta.control_limits
    if limits is None or limits[0] == limits[1]:
        return  # EPICS convention: equal limits mean "no limits"
    lo, hi = limits
    if not lo <= x <= hi:
        units = f" {meta.units}" if meta.units else ""
        raise ValidationError(f"{name}: {x}{units} is outside the control limits [{lo}, {hi}]{units}")


def _enum_index(value: Any, meta: Metadata, name: str) -> int:
    choices = meta.choices or ()
    if isinstance(value, str):
        if value in choices:
            return choices.index(value)
        try:
            value = int(value)
        except ValueError:
            raise ValidationError(f"{name}: {value!r} is not one of {list(choices)}") from None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value < len(choices):
        return int(value)
    raise ValidationError(f"{name}: {value!r} is not one of {list(choices)} (or an index 0..{len(choices) - 1})")


def _array(value: Any, meta: Metadata, name: str) -> np.ndarray:
    integer = meta.dtype not in _FLOAT_TYPES
    try:
        arr: np.ndarray = np.asarray(value, dtype=object if integer else np.float64)
        if integer:
            arr = np.asarray(arr.tolist() if arr.ndim else value)
            if arr.dtype.kind not in "iub":
                as_float = arr.astype(np.float64)
                if not np.all(np.isfinite(as_float)) or not np.all(as_float == np.round(as_float)):
                    raise ValidationError(f"{name}: {meta.dtype}[] elements must be whole numbers")
                arr = as_float
            if meta.dtype not in _INT_RANGE:
                raise ValidationError(f"{name}: arrays of {meta.dtype} cannot be written")
            lo, hi = _INT_RANGE[meta.dtype]
            if arr.size and (arr.min() < lo or arr.max() > hi):
                raise ValidationError(f"{name}: an element does not fit a {meta.dtype} ({lo}..{hi})")
            arr = arr.astype(_WIDE.get(meta.dtype, np.int32))
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"{name}: expected up to {meta.count} numbers ({meta.dtype}[])") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValidationError(f"{name}: expected a one-dimensional array, got shape {arr.shape}")
    if arr.size > meta.count:
        raise ValidationError(f"{name}: {arr.size} elements do not fit (at most {meta.count})")
    arr = arr.copy()
    arr.flags.writeable = False  # readings are shared between subscribers
    return arr


def coerce(value: Any, meta: Metadata, name: str = "value") -> Any:
    """Check ``value`` against ``meta`` and return it as the channel stores it.

    Parameters
    ----------
    value : Any
        What the user or a client wants to write.
    meta : Metadata
        The channel's type, count, limits and choices.
    name : str
        Used in the error message.

    Returns
    -------
    float, int, str or numpy.ndarray
        Enums are stored as their index.

    Raises
    ------
    ValidationError
        The value has the wrong type, does not fit, is outside the control limits
        or is not one of the choices.
    """
    if meta.dtype == "enum":
        return _enum_index(value, meta, name)
    if meta.dtype == "string":
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            raise ValidationError(f"{name}: expected a string, got {type(value).__name__}")
        if len(value.encode("utf-8")) >= MAX_STRING:
            raise ValidationError(f"{name}: string longer than {MAX_STRING - 1} bytes")
        return value
    if meta.is_array:
        return _array(value, meta, name)
    return _scalar_number(value, meta, name)
