"""Item descriptions (the mKTL "catalog") turned into :class:`Metadata`. Pure.

A catalog maps each item key to a description::

    {"temp": {"type": "numeric", "units": "K", "format": "%.2f", "initial": 295,
              "limits": [4, 500], "persist": true, "settable": true}}

Types: ``numeric`` (double), ``integer`` (long), ``numeric array`` (doubles, length
from ``count`` or ``initial``), ``boolean`` and ``enumerated`` (enum; ``enumerators``
as a list or ``{"0": "Off", "1": "On"}``), ``string``. ``limits``, ``alarm_limits``
and ``warning_limits`` are ctlshell's additions. A misspelt field is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core import Metadata, ValidationError, coerce

__all__ = ["ItemSpec", "load_catalog", "parse_catalog"]

_FIELDS = {
    "type", "description", "units", "format", "initial", "persist", "settable", "gettable",
    "enumerators", "limits", "alarm_limits", "warning_limits", "count",
}
_DTYPES = {"numeric": "double", "integer": "long", "numeric array": "double", "boolean": "enum",
           "enumerated": "enum", "string": "string"}
_PRECISION = re.compile(r"%[-+ #0]*\d*\.(\d+)[fFeEgG]")


@dataclass(frozen=True)
class ItemSpec:
    """One item of a catalog, checked: its metadata, initial value and flags."""

    key: str
    metadata: Metadata
    initial: Any
    persist: bool
    settable: bool
    kind: str


def _pair(key: str, name: str, value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        raise ValidationError(f"item {key!r}: {name} must be [low, high], not {value!r}")
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValidationError(f"item {key!r}: {name} must be [low, high], not {value!r}") from None
    if lo > hi:
        raise ValidationError(f"item {key!r}: {name} low {lo} is above high {hi}")
    return lo, hi


def _enumerators(key: str, kind: str, raw: Any) -> tuple[str, ...]:
    if raw is None:
        if kind == "boolean":
            return ("False", "True")
        raise ValidationError(f"item {key!r}: an enumerated item needs 'enumerators'")
    if isinstance(raw, Mapping):
        try:
            by_index = {int(k): str(v) for k, v in raw.items()}  # JSON keys are strings
        except ValueError:
            raise ValidationError(f"item {key!r}: enumerator keys must be integers, not {list(raw)}") from None
        if len(by_index) != len(raw):
            raise ValidationError(f"item {key!r}: enumerator keys {list(raw)} name the same index twice")
        if sorted(by_index) != list(range(len(by_index))):
            raise ValidationError(f"item {key!r}: enumerator keys must be 0..N-1, not {sorted(by_index)}")
        choices = tuple(by_index[i] for i in range(len(by_index)))
    elif isinstance(raw, (list, tuple)):
        choices = tuple(str(c) for c in raw)
    else:
        raise ValidationError(f"item {key!r}: enumerators must be a list or a mapping of index to name, "
                              f"not {type(raw).__name__}")
    if not 1 <= len(choices) <= 16 or any(len(c) >= 26 for c in choices):
        raise ValidationError(f"item {key!r}: 1 to 16 enumerators of at most 25 characters (a CA limit)")
    return choices


def parse_item(key: str, desc: Mapping[str, Any]) -> ItemSpec:
    """Check one description and build its :class:`ItemSpec`.

    Raises
    ------
    ValidationError
        Naming the item and the field at fault.
    """
    if not isinstance(desc, Mapping):
        raise ValidationError(f"item {key!r}: description must be a mapping, not {type(desc).__name__}")
    unknown = set(desc) - _FIELDS
    if unknown:
        raise ValidationError(f"item {key!r}: unknown field(s) {sorted(unknown)}; known: {sorted(_FIELDS)}")
    kind = str(desc.get("type", "numeric"))
    if kind not in _DTYPES:
        raise ValidationError(f"item {key!r}: type {kind!r} is not one of {sorted(_DTYPES)}")
    units = desc.get("units") or ""
    if isinstance(units, Mapping):
        units = units.get("", "")
    fmt = desc.get("format")
    match = _PRECISION.search(str(fmt)) if fmt else None
    choices = _enumerators(key, kind, desc.get("enumerators")) if _DTYPES[kind] == "enum" else None
    initial = desc.get("initial")
    count = 1
    if kind == "boolean" and isinstance(initial, bool):
        initial = int(initial)  # JSON true/false
    if kind == "numeric array":
        raw_count = desc.get("count")
        if raw_count is None and initial is not None:
            if isinstance(initial, (str, bytes)) or not hasattr(initial, "__len__"):
                raise ValidationError(f"item {key!r}: initial of a numeric array must be a list, not {initial!r}")
            raw_count = len(initial)
        if isinstance(raw_count, bool) or not isinstance(raw_count, (int, type(None))):
            raise ValidationError(f"item {key!r}: count must be a whole number, not {raw_count!r}")
        count = int(raw_count or 0)
        if count < 1:
            raise ValidationError(f"item {key!r}: a numeric array needs 'count' or a non-empty 'initial'")
        if initial is None:
            initial = np.zeros(count)
    elif initial is None:
        initial = {"double": 0.0, "long": 0, "enum": 0, "string": ""}[_DTYPES[kind]]
    settable = bool(desc.get("settable", True))
    meta = Metadata(
        dtype=_DTYPES[kind], count=count, units=str(units), precision=int(match.group(1)) if match else None,
        control_limits=_pair(key, "limits", desc.get("limits")),
        alarm_limits=_pair(key, "alarm_limits", desc.get("alarm_limits")),
        warning_limits=_pair(key, "warning_limits", desc.get("warning_limits")),
        choices=choices, description=str(desc.get("description", "")), access="rw" if settable else "r",
    )
    try:
        initial = coerce(initial, meta, key)
    except ValidationError as exc:
        raise ValidationError(f"item {key!r}: initial value refused: {exc}") from None
    return ItemSpec(key, meta, initial, bool(desc.get("persist", False)), settable, kind)


def parse_catalog(catalog: Mapping[str, Any]) -> dict[str, ItemSpec]:
    """Check every item of a catalog mapping."""
    if not isinstance(catalog, Mapping):
        raise ValidationError(f"a catalog is a mapping of item key to description, not {type(catalog).__name__}")
    out = {}
    for key, desc in catalog.items():
        if not isinstance(key, str) or not key or any(c.isspace() for c in key):
            raise ValidationError(f"item key {key!r} must be a non-empty name without spaces")
        out[key] = parse_item(key, desc)
    return out


def load_catalog(source: Mapping[str, Any] | str | Path) -> dict[str, ItemSpec]:
    """A catalog from a mapping or a JSON file."""
    if isinstance(source, (str, Path)):
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise ValidationError(f"catalog {source}: {exc.strerror}") from None
        try:
            source = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"catalog {source}: not valid JSON: {exc}") from None
    return parse_catalog(source)  # type: ignore[arg-type]  # a mapping by now (JSON read above)
