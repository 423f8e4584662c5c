"""Which input a control gets, from the channel's metadata alone (pure).

- enum choices -> a dropdown of the choices;
- a number with control (or display) limits -> a slider over them;
- any other number -> a number box; a string -> a text box;
- not writable, or an array -> :class:`~ctlshell.core.ValidationError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import Metadata, ValidationError

__all__ = ["ControlKind", "control_kind"]

_INTEGER = {"long", "int", "short", "char", "int64", "ushort", "ulong", "uchar", "long64", "ulong64"}


@dataclass(frozen=True)
class ControlKind:
    """What to build: ``kind`` is ``dropdown``, ``slider``, ``number`` or ``text``;
    ``integer`` whether values are whole; ``limits`` the slider's range; ``step`` its step."""

    kind: str
    integer: bool = False
    limits: tuple[float, float] | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()


def control_kind(address: str, meta: Metadata) -> ControlKind:
    """The control for a channel.

    Raises
    ------
    ValidationError
        The channel is read-only or an array: no control can write it.
    """
    if not meta.writable:
        raise ValidationError(f"{address} is read-only (access {meta.access!r}): it gets a readout, not a control")
    if meta.is_array:
        raise ValidationError(f"{address} is an array of {meta.count}: a control writes scalars only")
    if meta.choices:
        return ControlKind("dropdown", integer=True, choices=tuple(meta.choices))
    if meta.dtype in ("string", "state", "encoded"):
        return ControlKind("text")
    integer = meta.dtype in _INTEGER
    if meta.dtype == "boolean":
        return ControlKind("dropdown", integer=True, choices=("False", "True"))
    limits = meta.control_limits or meta.display_limits
    if limits is not None and limits[0] < limits[1]:
        if integer:
            return ControlKind("slider", integer=True, limits=(int(limits[0]), int(limits[1])), step=1)
        digits = meta.precision if meta.precision is not None else 2
        step = max(10.0 ** -digits, (limits[1] - limits[0]) / 10_000)
        return ControlKind("slider", limits=(float(limits[0]), float(limits[1])), step=step)
    return ControlKind("number", integer=integer)
