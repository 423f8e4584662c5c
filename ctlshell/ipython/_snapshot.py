"""``%pv snapshot``: save channel values to a JSON file, compare them with now, write them back.

The file is a JSON object ``{"saved": ISO time, "values": {address: value}, "channels":
{address: {"text", "units", "time", "alarm"}}}``: an enum is kept as its label (and
written back by label), times are full local ISO 8601, ``channels`` is what a person
reads (the value as every display shows it). Files of older versions (a POSIX
``saved``, enum indexes) still load. Reading and writing go through ``ctlshell.get``
/ ``ctlshell.put``; a restore writes only the values that differ, and checks every
one (type, limits) before the first write.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import api
from ..core import (Address, CtlshellError, Metadata, Reading, ValidationError, alarm_text, display_metadata, format_value,
                    iso_time, parse_address, plain_value)
from ._format import html_table

__all__ = ["Diff", "diff", "restore", "save", "writable_path"]


def _failed(verb: str, errors: dict[str, Any], of: int) -> CtlshellError:
    first = next(iter(errors.values()))
    more = f" (and {len(errors) - 1} more: {', '.join(list(errors)[1:6])}{', ...' if len(errors) > 6 else ''})" \
        if len(errors) > 1 else ""
    return type(first)(f"snapshot {verb}: {len(errors)} of {of} channels failed: {first}{more}")


def _read_all(addresses: Sequence[str]) -> dict[str, Reading]:
    """Every address read at once under one timeout (every read before anything is
    written); the failures raise together. Units and enum labels for the file come from
    the metadata, read where it is not known yet *while* the values are read (one after
    the other, a save of 1 000 channels took 2.3 times ``caget_many``'s time)."""
    scheme = api.session().config.default_scheme
    parsed = [parse_address(a, scheme) for a in addresses]  # AddressError first; parsed once
    unknown = list(dict.fromkeys(p for p in parsed if display_metadata(str(p)) is None))
    learner = None
    if unknown:  # the display's metadata book hears of them
        learner = threading.Thread(target=_learn, args=(unknown,), name="ctlshell-snapshot-info", daemon=True)
        learner.start()
    results = api.get_many(parsed)  # Ctrl-C: the metadata read ends on its own, within the timeout
    if learner is not None:
        learner.join()
    if results.errors:
        raise _failed("read", results.errors, len(results.addresses))
    return {given: results[a] for given, a in zip(addresses, results.addresses)}  # keyed as given


def _learn(addresses: list[Address]) -> None:
    try:
        api.info_many(addresses)
    except CtlshellError:  # a channel that fails shows in the values' read
        pass


def _stored(address: str, value: Any) -> Any:
    """``value`` as the file keeps it: an enum as its label, an array as a list."""
    return plain_value(value, display_metadata(address))


def writable_path(path: str) -> Path:
    """``path`` if a file can be written there, else a ValidationError saying why."""
    p = Path(path).expanduser()
    if not p.parent.is_dir():
        raise ValidationError(f"cannot write {path}: no directory {str(p.parent)!r}")
    if p.is_dir():
        raise ValidationError(f"cannot write {path}: it is a directory")
    return p


def save(path: str, addresses: Sequence[str]) -> dict[str, Any]:
    """Read ``addresses`` and write them to ``path``; returns ``{address: value}``."""
    if not addresses:
        raise ValidationError("snapshot save needs at least one address")
    writable_path(path)  # before reading anything
    readings = _read_all(addresses)  # every read first: a failure writes no file
    values = {a: _stored(a, r.value) for a, r in readings.items()}
    channels = {}
    for a, r in readings.items():
        meta = display_metadata(a)
        channels[a] = {"text": format_value(r.value, meta), "units": meta.units if meta else "",
                       "time": iso_time(r.timestamp), "alarm": alarm_text(r)}
    doc = {"saved": iso_time(time.time()), "values": values, "channels": channels}
    Path(path).write_text(_json_text(doc), encoding="utf-8")
    return values


def _json_text(doc: dict[str, Any]) -> str:
    """``doc`` as JSON with one line per channel (what a person reads, and ``diff`` shows
    line by line). Written by hand around json's C string encoder: ``json.dumps`` with
    ``indent`` takes json's Python encoder (half a second for 10 000 channels), and one
    ``dumps`` per item costs an encoder each."""
    lines = ["{"]
    for k, (key, value) in enumerate(doc.items()):
        comma = "," if k < len(doc) - 1 else ""
        if isinstance(value, dict) and value:
            lines.append(f" {_quote(key)}: {{")
            lines.append(",\n".join(f"  {_quote(a)}: {_json(v)}" for a, v in value.items()))
            lines.append(f" }}{comma}")
        else:
            lines.append(f" {_quote(key)}: {_json(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


_quote = json.encoder.encode_basestring_ascii  # what json.dumps writes for a str (C)


def _json(value: Any) -> str:
    """One value as ``json.dumps`` writes it (its common cases without an encoder)."""
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    if kind is int:
        return int.__repr__(value)
    if kind is dict and all(type(v) is str for v in value.values()):  # a channel's texts
        return "{" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def _load(path: str, addresses: Sequence[str]) -> dict[str, Any]:
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read snapshot {path}: {exc.strerror or exc}") from None
    try:
        values = json.loads(text)["values"]
        if not isinstance(values, dict):
            raise TypeError("'values' is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"{path} is not a ctlshell snapshot ({exc})") from None
    if addresses:
        missing = [a for a in addresses if a not in values]
        if missing:
            raise ValidationError(f"{path} has no value for {', '.join(missing)}")
        values = {a: values[a] for a in addresses}
    return dict(values)


class Diff(list):
    """``(address, saved, now)`` for each channel that differs (enums as labels),
    shown with each channel's precision and units."""

    _HEAD = ["address", "saved", "now"]

    def _rows(self) -> list[list[str]]:
        return [[a, _shown(a, saved), _shown(a, now)] for a, saved, now in self]

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        if not self:
            p.text("no differences")
        for address, saved, now in self._rows():
            p.text(f"{address}: saved {saved}, now {now}\n")

    def _repr_html_(self) -> str:
        return html_table(self._HEAD, self._rows()) if self else "<p>no differences</p>"


def _shown(address: str, value: Any) -> str:
    meta: Metadata | None = display_metadata(address)
    return format_value(value, meta)


def diff(path: str, addresses: Sequence[str] = ()) -> Diff:
    """Channels whose value now differs from the snapshot."""
    saved = _load(path, addresses)
    readings = _read_all(list(saved))
    out = Diff()
    for address, old in saved.items():
        old = _stored(address, old)  # an enum index of an older file reads as its label
        now = _stored(address, readings[address].value)
        if now != old:
            out.append((address, old, now))
    return out


def restore(path: str, addresses: Sequence[str] = (), dry_run: bool = False) -> list[str]:
    """Write back what differs; returns the addresses written (or, dry, to be written)."""
    changes = diff(path, addresses)
    # check every value against its channel before the first write: all or nothing for bad values
    from ..core import coerce

    for address, old, _ in changes:
        coerce(old, api.info(address), address)
    if dry_run:
        return [a for a, _, _ in changes]
    written = []
    for address, old, _ in changes:
        api.put(address, old, wait=True)
        written.append(address)
    return written
