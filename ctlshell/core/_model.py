"""Protocol-neutral value objects: :class:`Severity`, :class:`Reading`, :class:`Metadata`.

Frozen dataclasses only; every backend converts its own wire types into these and
every display reads only these. Knows no protocol library.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Access", "CommandInfo", "Limits", "Metadata", "Reading", "Severity", "severity_for"]

Access = Literal["", "r", "w", "rw"]
Limits = tuple[float, float]


class Severity(enum.IntEnum):
    """The one alarm model every protocol maps onto (EPICS order, plus DISCONNECTED)."""

    NO_ALARM = 0
    MINOR = 1
    MAJOR = 2
    INVALID = 3
    DISCONNECTED = 4

    def __repr__(self) -> str:
        return f"Severity.{self.name}"

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, repr=False)
class Reading:
    """One value of a channel as the server stamped it.

    Attributes
    ----------
    address : str
        ``scheme://name`` of the channel.
    value : Any
        The value (a number, a string, an enum index, a numpy array).
    timestamp : float
        Server time, POSIX seconds (CA TIME, PVA timeStamp, Tango attribute time).
    severity : Severity
        Alarm severity; ``DISCONNECTED`` when the server is gone.
    status : str
        Alarm status or message ("HIHI", "WRITE", "disconnected", "" when fine).
    """

    address: str
    value: Any
    timestamp: float = field(default_factory=time.time)
    severity: Severity = Severity.NO_ALARM
    status: str = ""

    @property
    def connected(self) -> bool:
        """False for the reading that marks a lost connection."""
        return self.severity is not Severity.DISCONNECTED

    @property
    def age(self) -> float:
        """Seconds since the server stamped this reading."""
        return time.time() - self.timestamp

    def __str__(self) -> str:
        """One line: value with units and precision, enum label, local time, alarm if any."""
        from ._display import reading_line  # the display knows this class; not the reverse at import

        return reading_line(self)

    def __repr__(self) -> str:
        return f"<Reading {self}>"

    def _repr_html_(self) -> str:
        from ._display import reading_html

        return reading_html(self)


@dataclass(frozen=True)
class Metadata:
    """What a channel says about itself.

    Attributes
    ----------
    dtype : str
        Native type: ``double``, ``float``, ``long``, ``int``, ``short``, ``char``,
        ``string`` or ``enum``; Tango adds ``boolean``, ``uchar``, ``ushort``, ``ulong``,
        ``long64``, ``ulong64``, ``state`` and ``encoded``.
    count : int
        Element count; 1 for a scalar.
    units, precision, description
        Display information ("" / None when the server has none).
    display_limits, control_limits, alarm_limits, warning_limits : (low, high) or None
        ``None`` when the server states none.
    choices : tuple of str or None
        Enum choices.
    access : str
        ``"r"``, ``"w"``, ``"rw"`` or ``""`` (no access).
    updates : str
        How a subscription of this session gets updates ("change events", "polling
        every 1 s (...)"); ``""`` when the backend has nothing to say.
    dropped : int
        Updates this session's subscribers of the channel did not get because a newer
        one replaced them (bounded queues); 0 when nobody subscribes.
    """

    dtype: str = "double"
    count: int = 1
    units: str = ""
    precision: int | None = None
    display_limits: Limits | None = None
    control_limits: Limits | None = None
    alarm_limits: Limits | None = None
    warning_limits: Limits | None = None
    choices: tuple[str, ...] | None = None
    description: str = ""
    access: Access = "rw"
    updates: str = ""
    dropped: int = 0

    @property
    def writable(self) -> bool:
        return "w" in self.access

    def _repr_html_(self) -> str:
        """A table of what the channel states (a notebook shows this, not the dataclass)."""
        from ._display import metadata_pairs, pairs_html

        return pairs_html(metadata_pairs(self))

    @property
    def is_array(self) -> bool:
        return self.count != 1


def severity_for(value: Any, meta: Metadata) -> tuple[Severity, str]:
    """The alarm a numeric scalar raises against its alarm and warning limits.

    Parameters
    ----------
    value : Any
        The value; anything that is not a real scalar raises no alarm.
    meta : Metadata

    Returns
    -------
    (Severity, str)
        Severity and EPICS-style status (``HIHI``, ``HIGH``, ``LOW``, ``LOLO`` or ``""``).
    """
    if meta.is_array or meta.dtype in ("string", "enum") or isinstance(value, (str, bytes)):
        return Severity.NO_ALARM, ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return Severity.NO_ALARM, ""
    if meta.alarm_limits is not None:
        lo, hi = meta.alarm_limits
        if x >= hi:
            return Severity.MAJOR, "HIHI"
        if x <= lo:
            return Severity.MAJOR, "LOLO"
    if meta.warning_limits is not None:
        lo, hi = meta.warning_limits
        if x >= hi:
            return Severity.MINOR, "HIGH"
        if x <= lo:
            return Severity.MINOR, "LOW"
    return Severity.NO_ALARM, ""


@dataclass(frozen=True)
class CommandInfo:
    """What a command (a Tango command, a device slot) says about itself.

    Attributes
    ----------
    name : str
    in_type, out_type : str
        Argument and result types ("void" when there is none).
    in_description, out_description : str
    """

    name: str
    in_type: str
    out_type: str
    in_description: str = ""
    out_description: str = ""

    def __str__(self) -> str:
        return f"{self.name}({self.in_type}) -> {self.out_type}"
