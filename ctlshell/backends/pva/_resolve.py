"""Which part of ``pva://NAME.field.sub`` is the PV name and which the field path.

Pure. PV names may themselves contain dots (``rec.VAL`` served by QSRV), so a dotted
name has two readings: the whole text is the PV name, or the PV name ends at the
first dot and the rest is a field path. The backend tries both at once and keeps the
one the server confirms (:func:`candidates`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...core import AddressError

__all__ = ["Target", "candidates"]


@dataclass(frozen=True)
class Target:
    """One reading of an address: the PV to ask and the field path within it."""

    pv: str
    field: str = ""


def candidates(name: str) -> tuple[Target, ...]:
    """The readings of ``name``, the field reading first.

    Raises
    ------
    AddressError
        For an empty field path component (``X..a``, ``X.``, ``.a``).
    """
    if "." not in name:
        return (Target(name),)
    pv, _, path = name.partition(".")
    if not pv or any(not part for part in path.split(".")):
        raise AddressError(f"malformed pva:// address {name!r}: write pva://NAME or pva://NAME.field.sub")
    return (Target(pv, path), Target(name))
