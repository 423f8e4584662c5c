"""NeXus types (``NX_FLOAT64``, ``NX_CHAR``...) to numpy dtypes, and the checked
conversion of one incoming value to the array a field stores.

Pure: numpy only. A value that does not fit its field is an error, never a fill value
and never a silent cast (3.5 into an ``NX_INT`` field is refused, so is "abc" into a
float field).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core import ValidationError

__all__ = ["NX_TYPES", "STRING", "convert", "dtype_of"]

STRING = "str"
NX_TYPES: dict[str, str] = {
    "NX_FLOAT64": "f8", "NX_FLOAT": "f8", "NX_NUMBER": "f8", "NX_FLOAT32": "f4",
    "NX_INT": "i8", "NX_INT64": "i8", "NX_INT32": "i4", "NX_INT16": "i2", "NX_INT8": "i1",
    "NX_POSINT": "u8", "NX_UINT": "u8", "NX_UINT64": "u8", "NX_UINT32": "u4", "NX_UINT16": "u2",
    "NX_UINT8": "u1", "NX_BOOLEAN": "bool", "NX_CHAR": STRING, "NX_DATE_TIME": STRING, "ISO8601": STRING,
}


def dtype_of(nx_type: str) -> str:
    """The numpy dtype string of a NeXus type (``"str"`` for text)."""
    return NX_TYPES[nx_type]


#: the range of each numeric dtype, looked up once (np.iinfo/np.finfo cost more than the check)
_INT_RANGE = {k: (int(np.iinfo(k).min), int(np.iinfo(k).max)) for k in ("i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8")}
_FLOAT_MAX = {k: float(np.finfo(k).max) for k in ("f4", "f8")}


def _scalar(value: Any, kind: str, where: str) -> Any:
    if type(value) is float and kind == "f8":  # the common case: a JSON number into NX_FLOAT64
        return value
    if kind == STRING:
        if isinstance(value, str):
            return value
        raise ValidationError(f"{where}: expected text, got {type(value).__name__} {value!r}")
    if kind == "bool":
        if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer)) and value in (0, 1)):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _BOOL_TEXT:  # as NXSDataWriter reads them
            return _BOOL_TEXT[value.strip().lower()]
        raise ValidationError(f"{where}: expected true/false, got {type(value).__name__} {value!r}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValidationError(f"{where}: expected a number, got {type(value).__name__} {value!r}")
    if kind[0] in "iu":
        if isinstance(value, (float, np.floating)):
            if not math.isfinite(value) or not float(value).is_integer():
                raise ValidationError(f"{where}: expected an integer, got {value!r}")
            value = int(value)
        low, high = _INT_RANGE[kind]
        if not low <= value <= high:
            raise ValidationError(f"{where}: {value} is out of range for {kind} ({low}..{high})")
        return value
    if math.isfinite(value) and abs(value) > _FLOAT_MAX[kind]:
        raise ValidationError(f"{where}: {value!r} is out of range for {kind}")
    return value


_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False}


def _fits(got: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    return len(got) == len(shape) and all(s in (0, g) for g, s in zip(got, shape))


def convert(value: Any, kind: str, shape: tuple[int, ...], where: str) -> Any:
    """``value`` as the array (or scalar) a field of dtype ``kind`` and ``shape`` stores.

    Parameters
    ----------
    value : object
        A JSON value, a number, a string, a list or a numpy array.
    kind : str
        A dtype string from :func:`dtype_of`.
    shape : tuple of int
        The shape of one point (``()`` for a scalar); a 0 takes that dimension from the value.
    where : str
        Names the field and the source in error messages.

    Raises
    ------
    ValidationError
        Wrong type, wrong shape, out of range, not an integer, or None.
    """
    if value is None:
        raise ValidationError(f"{where}: no value (null)")
    if not shape:
        if isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) != 0:
            raise ValidationError(f"{where}: expected one value, got an array of shape {np.shape(value)}")
        return _scalar(value.item() if isinstance(value, np.ndarray) else value, kind, where)
    if kind == STRING:
        arr = np.asarray(value, dtype=object)
        if not _fits(arr.shape, shape):
            raise ValidationError(f"{where}: expected shape {shape}, got {arr.shape}")
        for v in arr.flat:
            _scalar(v, kind, where)
        return arr
    try:
        raw = np.asarray(value)
    except ValueError as exc:
        raise ValidationError(f"{where}: not an array: {exc}") from None
    if not _fits(raw.shape, shape):
        raise ValidationError(f"{where}: expected shape {shape}, got {raw.shape}")
    if kind == "bool" and raw.dtype.kind in "US":  # "True"/"false"/"1"/"0" texts
        flat = [_scalar(v, kind, where) for v in raw.astype(str).flat]
        return np.asarray(flat, dtype=bool).reshape(raw.shape)
    if raw.dtype.kind not in "biuf" or (raw.dtype.kind == "b") != (kind == "bool"):
        raise ValidationError(f"{where}: expected {kind} values, got {raw.dtype} ({raw.dtype.kind!r})")
    if raw.dtype == kind:  # already the field's type (a JSON list of floats into NX_FLOAT64)
        return raw
    with np.errstate(invalid="ignore", over="ignore"):  # checked just below instead
        out = raw.astype(kind)
    if kind[0] in "iu" and not np.array_equal(out, raw):
        raise ValidationError(f"{where}: values do not fit {kind} (not integers or out of range)")
    if kind[0] == "f" and np.any(np.isfinite(raw) & ~np.isfinite(out)):
        raise ValidationError(f"{where}: values out of range for {kind}")
    return out
