"""``%pv snapshot``: save channel values to a JSON file, compare them with now, write them back.

The file is a JSON object ``{"saved": time, "values": {address: value}}``. Reading
and writing go through ``ctlshell.get_many`` / ``ctlshell.put_many`` (every channel at
once, one timeout); a restore writes only the
values that differ, and checks every one (type, limits) before the first write.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import api
from ..core import CtlshellError, ValidationError

__all__ = ["Diff", "diff", "restore", "save", "writable_path"]


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


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
    values = {a: _plain(r.value) for a, r in _read_all(addresses).items()}  # a failure writes no file
    Path(path).write_text(json.dumps({"saved": time.time(), "values": values}, indent=1), encoding="utf-8")
    return values


def _failed(verb: str, errors: dict[str, Any], of: int) -> CtlshellError:
    first = next(iter(errors.values()))
    more = f" (and {len(errors) - 1} more: {', '.join(list(errors)[1:6])}{', ...' if len(errors) > 6 else ''})" \
        if len(errors) > 1 else ""
    return type(first)(f"snapshot {verb}: {len(errors)} of {of} channels failed: {first}{more}")


def _read_all(addresses: Sequence[str]) -> dict[str, Any]:
    """Every address read at once under one timeout; the failures raise together."""
    results = api.get_many(addresses)
    if results.errors:
        raise _failed("read", results.errors, len(results.addresses))
    return {given: results[a] for given, a in zip(addresses, results.addresses)}  # keyed as given


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


class Diff(list):  # type: ignore[type-arg]
    """``(address, saved, now)`` for each channel that differs."""

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        if not self:
            p.text("no differences")
        for address, saved, now in self:
            p.text(f"{address}: saved {saved!r}, now {now!r}\n")


def diff(path: str, addresses: Sequence[str] = ()) -> Diff:
    """Channels whose value now differs from the snapshot."""
    saved = _load(path, addresses)
    out = Diff()
    current = _read_all(list(saved)) if saved else {}
    for address, old in saved.items():
        now = _plain(current[address].value)
        if now != old:
            out.append((address, old, now))
    return out


def restore(path: str, addresses: Sequence[str] = (), dry_run: bool = False) -> list[str]:
    """Write back what differs; returns the addresses written (or, dry, to be written)."""
    changes = diff(path, addresses)
    # check every value against its channel before the first write: all or nothing for bad values
    from ..core import coerce

    if not changes:
        return []
    metas = api.info_many([a for a, _, _ in changes])
    metas.raise_first()
    for (address, old, _), canonical in zip(changes, metas.addresses):
        coerce(old, metas[canonical], address)
    if dry_run:
        return [a for a, _, _ in changes]
    results = api.put_many([(a, old) for a, old, _ in changes], wait=True)  # all at once, one timeout
    if results.errors:
        raise _failed("restore", results.errors, len(changes))
    return [a for a, _, _ in changes]
