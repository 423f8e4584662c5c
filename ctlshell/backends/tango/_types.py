"""Pure table of Tango data types and checks of values against them.

One :class:`TangoType` per ``tango.CmdArgType`` ctlshell handles: the name shown in
:class:`~ctlshell.core.Metadata`, the numpy type of its arrays and the range of its
integers. :func:`check_scalar` / :func:`check_array` take a Python value and return
it as pytango sends it, or raise :class:`~ctlshell.core.ValidationError` naming the
problem, so nothing wrong is ever sent. Imports no pytango (type codes are ints).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...core import ValidationError

__all__ = ["ARRAY_OF", "TYPES", "TangoType", "check_array", "check_limits", "check_scalar"]


@dataclass(frozen=True)
class TangoType:
    """What ctlshell knows of one Tango data type."""

    name: str          # Metadata.dtype
    kind: str          # "bool", "int", "float", "string", "enum", "state", "other"
    numpy: str = ""    # numpy dtype of arrays
    low: int = 0       # integer range
    high: int = 0


def _int(name: str, numpy: str) -> TangoType:
    info = np.iinfo(numpy)
    return TangoType(name, "int", numpy, int(info.min), int(info.max))


#: tango.CmdArgType value -> TangoType (scalar types and the element types of arrays)
TYPES: dict[int, TangoType] = {
    1: TangoType("boolean", "bool", "bool"),
    2: _int("short", "int16"),
    3: _int("long", "int32"),
    4: TangoType("float", "float", "float32"),
    5: TangoType("double", "float", "float64"),
    6: _int("ushort", "uint16"),
    7: _int("ulong", "uint32"),
    8: TangoType("string", "string", "object"),
    19: TangoType("state", "state"),
    22: _int("uchar", "uint8"),
    23: _int("long64", "int64"),
    24: _int("ulong64", "uint64"),
    28: TangoType("encoded", "other"),
    29: TangoType("enum", "enum", "int16", 0, 2**15 - 1),
}
#: command argument array types (DevVar...Array) -> element type
ARRAY_OF: dict[int, int] = {9: 22, 10: 2, 11: 3, 12: 4, 13: 5, 14: 6, 15: 7, 16: 8, 21: 1, 25: 23, 26: 24}


def check_limits(x: float, limits: tuple[float, float] | None, units: str, where: str) -> None:
    """Refuse ``x`` outside ``limits`` (the attribute's min_value / max_value)."""
    if limits is None:
        return
    lo, hi = limits
    if math.isnan(x) or not lo <= x <= hi:
        unit = f" {units}" if units else ""
        raise ValidationError(f"{where}: {x}{unit} is outside the limits [{lo}, {hi}]{unit} "
                              "(min_value/max_value of the attribute); nothing was written")


def check_scalar(value: Any, t: TangoType, where: str, *, limits: tuple[float, float] | None = None,
                 units: str = "", choices: tuple[str, ...] | None = None) -> Any:
    """One value of type ``t`` as pytango sends it.

    Raises
    ------
    ValidationError
        Wrong Python type, out of the type's range, outside ``limits``, not a choice.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if t.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ValidationError(f"{where}: expected True or False (DevBoolean), got {value!r}")
    if t.kind == "string":
        if not isinstance(value, str):
            raise ValidationError(f"{where}: expected a string (DevString), got {type(value).__name__} {value!r}")
        return value
    if t.kind == "enum":
        labels = choices or ()
        if isinstance(value, str) and value in labels:
            return labels.index(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(labels):
            return value
        raise ValidationError(f"{where}: {value!r} is not one of {list(labels)} (or an index 0..{len(labels) - 1})")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{where}: expected a number ({t.name}), got {type(value).__name__} {value!r}")
    if t.kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise ValidationError(f"{where}: {value!r} is not a whole number ({t.name} expected)")
            value = int(value)
        if not t.low <= value <= t.high:
            raise ValidationError(f"{where}: {value} does not fit a {t.name} ({t.low}..{t.high})")
        check_limits(value, limits, units, where)
        return value
    if t.kind == "float":
        x = float(value)
        check_limits(x, limits, units, where)
        return x
    raise ValidationError(f"{where}: writing {t.name} values is not supported by ctlshell")


def check_array(value: Any, t: TangoType, where: str, *, ndim: int, max_shape: tuple[int, ...] | None = None,
                limits: tuple[float, float] | None = None, units: str = "") -> Any:
    """A spectrum (``ndim`` 1) or image (``ndim`` 2) of element type ``t``.

    Returns a numpy array of the element type (a list of str for strings).

    Raises
    ------
    ValidationError
        Not an array of that many dimensions, too large, an element of the wrong
        type or outside ``limits``.
    """
    if isinstance(value, (str, bytes)) or np.ndim(value) != ndim:
        shape = "a one-dimensional sequence" if ndim == 1 else "a two-dimensional array"
        raise ValidationError(f"{where}: expected {shape} of {t.name}, got {type(value).__name__}")
    arr = np.asarray(value, dtype=object)
    if max_shape is not None and any(n > m for n, m in zip(arr.shape, max_shape)):
        raise ValidationError(f"{where}: shape {arr.shape} does not fit (at most {max_shape})")
    items = [check_scalar(x, t, f"{where} element [{i}]", limits=limits, units=units)
             for i, x in enumerate(arr.ravel().tolist())]
    if t.kind == "string":
        if ndim != 1:
            return [[items[r * arr.shape[1] + c] for c in range(arr.shape[1])] for r in range(arr.shape[0])]
        return items
    return np.array(items, dtype=t.numpy).reshape(arr.shape)
