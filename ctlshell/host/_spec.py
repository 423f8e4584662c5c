"""What a hosted PV is declared with: :class:`PVSpec`, checked into :class:`Metadata`. Pure.

``ctlshell.host(name, value, units=...)`` and a device's ``DevicePV(...)`` both go
through here, so a PV is described the same way wherever it is declared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core import Metadata, SoftPV, ValidationError, infer_dtype

__all__ = ["PVSpec", "check_pair"]


def check_pair(name: str, value: Sequence[float] | None) -> tuple[float, float] | None:
    """A ``(low, high)`` pair of floats, or None; anything else is a ValidationError."""
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a (low, high) pair of numbers, not {value!r}") from None
    if lo > hi:
        raise ValidationError(f"{name}: low {lo} is above high {hi}")
    return (lo, hi)


@dataclass(frozen=True)
class PVSpec:
    """A PV's initial value and display/limit metadata, as the user wrote them."""

    value: Any
    units: str | None = None
    precision: int | None = None
    limits: Sequence[float] | None = None
    alarm_limits: Sequence[float] | None = None
    warning_limits: Sequence[float] | None = None
    enum: Sequence[str] | None = None
    writable: bool = False
    doc: str | None = None

    def metadata(self) -> Metadata:
        """Check everything and build the metadata.

        Raises
        ------
        ValidationError
        """
        enum = self.enum
        if enum is not None:
            enum = tuple(str(c) for c in enum)
            if not 1 <= len(enum) <= 16 or any(len(c) >= 26 for c in enum):
                raise ValidationError("enum needs 1 to 16 choices of at most 25 characters each (a CA limit)")
        dtype, count = infer_dtype(self.value, enum)
        precision = self.precision
        if precision is not None and (not isinstance(precision, int) or not 0 <= precision <= 17):
            raise ValidationError(f"precision must be an int 0..17, not {precision!r}")
        return Metadata(
            dtype=dtype, count=count, units=self.units or "", precision=precision,
            control_limits=check_pair("limits", self.limits),
            alarm_limits=check_pair("alarm_limits", self.alarm_limits),
            warning_limits=check_pair("warning_limits", self.warning_limits), choices=enum,
            description=self.doc or "", access="rw" if self.writable else "r",
        )

    def build(self, name: str) -> SoftPV:
        """A SoftPV named ``name`` (the initial value is checked against the limits)."""
        return SoftPV(name, self.value, self.metadata())
