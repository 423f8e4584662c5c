"""The value of a field given as text in the XML (no datasource): words or numbers.

Pure: text and a :class:`~._config.Field` in, a value shaped for the field out. Must not
know HDF5 or the sources.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import ValidationError
from ._config import Field
from ._types import dtype_of

__all__ = ["field_numbers", "field_words"]


def field_words(text: str, fl: Field) -> Any:
    """A text field's value: the text, or its words (one row a line for an image)."""
    if not fl.shape:
        return text
    rows = [line.split() for line in text.splitlines() if line.strip()]
    if len(fl.shape) == 2 and len(rows) > 1 and len({len(r) for r in rows}) == 1:
        return rows
    words = text.split()
    if 0 not in fl.shape and len(words) == int(np.prod(fl.shape)):
        return np.asarray(words, dtype=object).reshape(fl.shape).tolist()
    return words


def field_numbers(text: str, fl: Field) -> Any:
    kind = dtype_of(fl.nx_type)

    def one(t: str) -> Any:
        if kind == "bool":
            if t.lower() not in _BOOLS:
                raise ValueError(t)
            return _BOOLS[t.lower()]
        return float(t) if kind[0] == "f" else int(t)

    try:
        values = [one(t) for t in text.split()]
        rows = [[one(t) for t in line.split()] for line in text.splitlines() if line.strip()]
    except ValueError:
        raise ValidationError(f"{fl.path} ({fl.where}): text {text!r} is not {fl.nx_type}") from None
    if not fl.shape:
        return values[0] if len(values) == 1 else values
    known = [n for n in fl.shape if n]
    if len(known) == len(fl.shape) and int(np.prod(known)) == len(values):
        return np.asarray(values).reshape(fl.shape)
    if len(fl.shape) == 1:
        return values
    if len(fl.shape) == 2 and len(rows) > 1 and len({len(r) for r in rows}) == 1:  # one row a line
        return np.asarray(rows)
    if len(known) == len(fl.shape) - 1 and values and len(values) % max(1, int(np.prod(known))) == 0:
        return np.asarray(values).reshape([n or -1 for n in fl.shape])
    return values


_BOOLS = {"true": True, "false": False, "1": True, "0": False}
