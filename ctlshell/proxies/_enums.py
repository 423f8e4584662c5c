"""Karabo's enums: :class:`State` (68 states in a hierarchy), :class:`AlarmCondition`,
:class:`Unit` and :class:`MetricPrefix`, and how other control systems' states map
onto :class:`State`.

``State`` is as ``karabo.common.states.State``: each member's value is its name,
``State("ON") is State.ON``, ``State.MOVING.isDerivedFrom(State.CHANGING)``. The
mapping of a Tango ``DevState`` (:func:`state_from_tango`) and of a motor record's
DMOV/MOVN (:func:`state_of_motor`) is ctlshell's (ADR 0008). Pure.
"""

from __future__ import annotations

from enum import Enum, EnumMeta
from functools import total_ordering
from typing import TYPE_CHECKING, Any

__all__ = ["AlarmCondition", "MetricPrefix", "State", "Unit", "state_from_label", "state_from_tango",
           "state_of_motor"]

#: (state, parent) in Karabo's order (karabo 2.21 ``karabo.common.states``).
_HIERARCHY: list[tuple[str, str | None]] = [
    ("UNKNOWN", None), ("KNOWN", None), ("INIT", None), ("ERROR", "KNOWN"), ("INTERLOCKED", "DISABLED"),
    ("NORMAL", "KNOWN"), ("STATIC", "NORMAL"), ("INTERLOCK_OK", "STATIC"), ("CHANGING", "NORMAL"),
    ("DECREASING", "CHANGING"), ("COOLING", "DECREASING"), ("MOVING_LEFT", "DECREASING"),
    ("MOVING_DOWN", "DECREASING"), ("MOVING_BACK", "DECREASING"), ("ROTATING_CNTCLK", "DECREASING"),
    ("RAMPING_DOWN", "DECREASING"), ("EXTRACTING", "DECREASING"), ("STOPPING", "DECREASING"),
    ("EMPTYING", "DECREASING"), ("DISENGAGING", "DECREASING"), ("SWITCHING_OFF", "DECREASING"),
    ("HOMING", "CHANGING"), ("ROTATING", "CHANGING"), ("MOVING", "CHANGING"), ("SWITCHING", "CHANGING"),
    ("OPENING", "CHANGING"), ("CLOSING", "CHANGING"), ("SEARCHING", "CHANGING"), ("INCREASING", "CHANGING"),
    ("HEATING", "INCREASING"), ("MOVING_RIGHT", "INCREASING"), ("MOVING_UP", "INCREASING"),
    ("MOVING_FORWARD", "INCREASING"), ("ROTATING_CLK", "INCREASING"), ("RAMPING_UP", "INCREASING"),
    ("INSERTING", "INCREASING"), ("STARTING", "INCREASING"), ("FILLING", "INCREASING"),
    ("ENGAGING", "INCREASING"), ("SWITCHING_ON", "INCREASING"), ("PAUSED", "DISABLED"), ("RUNNING", "NORMAL"),
    ("ACQUIRING", "RUNNING"), ("PROCESSING", "RUNNING"), ("PASSIVE", "STATIC"), ("WARM", "PASSIVE"),
    ("COLD", "PASSIVE"), ("PRESSURIZED", "PASSIVE"), ("CLOSED", "PASSIVE"), ("OFF", "PASSIVE"),
    ("INSERTED", "PASSIVE"), ("STOPPED", "PASSIVE"), ("UNLOCKED", "PASSIVE"), ("DISENGAGED", "PASSIVE"),
    ("IGNORING", "PASSIVE"), ("ACTIVE", "STATIC"), ("COOLED", "ACTIVE"), ("HEATED", "ACTIVE"),
    ("EVACUATED", "ACTIVE"), ("OPENED", "ACTIVE"), ("ON", "ACTIVE"), ("EXTRACTED", "ACTIVE"),
    ("STARTED", "ACTIVE"), ("LOCKED", "ACTIVE"), ("ENGAGED", "ACTIVE"), ("MONITORING", "ACTIVE"),
    ("DISABLED", "KNOWN"), ("INTERLOCK_BROKEN", "DISABLED"),
]


class _StateBase(Enum):
    """Methods of every :class:`State`."""

    @property
    def parent(self) -> State | None:
        """The more general state this one derives from (None for a root)."""
        name = _PARENTS[self.name]
        return None if name is None else State(name)

    def isDerivedFrom(self, other: State) -> bool:  # noqa: N802 (Karabo's name)
        """True when ``other`` is this state or one of its ancestors."""
        state: State | None = self  # type: ignore[assignment]  # every _StateBase member is a State
        while state is not None:
            if state is other:
                return True
            state = state.parent
        return False

    @classmethod
    def fromString(cls, name: str) -> State:  # noqa: N802
        return cls(name)  # type: ignore[return-value]  # cls is State (its only subclass)


_PARENTS = dict(_HIERARCHY)
if TYPE_CHECKING:  # the members are made from _HIERARCHY at run time; the checker sees each as a State

    class _StateMeta(EnumMeta):
        def __getattr__(cls, name: str) -> State: ...

    class State(_StateBase, metaclass=_StateMeta):
        pass
else:
    State = _StateBase("State", [(name, name) for name, _ in _HIERARCHY], module=__name__)
State.__doc__ = ("A Karabo device state; ``State.ON``, ``State('MOVING')``, "
                 "``State.MOVING.isDerivedFrom(State.CHANGING)``.")


@total_ordering
class AlarmCondition(Enum):
    """Karabo's alarm conditions, ordered by criticality (NONE < WARN < ALARM < INTERLOCK)."""

    NONE = "none"
    WARN = "warn"
    WARN_LOW = "warnLow"
    WARN_HIGH = "warnHigh"
    WARN_VARIANCE_LOW = "warnVarianceLow"
    WARN_VARIANCE_HIGH = "warnVarianceHigh"
    ALARM = "alarm"
    ALARM_LOW = "alarmLow"
    ALARM_HIGH = "alarmHigh"
    ALARM_VARIANCE_LOW = "alarmVarianceLow"
    ALARM_VARIANCE_HIGH = "alarmVarianceHigh"
    INTERLOCK = "interlock"

    @staticmethod
    def criticalityList() -> list[AlarmCondition]:  # noqa: N802
        return [AlarmCondition.NONE, AlarmCondition.WARN, AlarmCondition.ALARM, AlarmCondition.INTERLOCK]

    def criticalityLevel(self) -> AlarmCondition:  # noqa: N802
        """The base condition (WARN for WARN_LOW...)."""
        for base in AlarmCondition.criticalityList():
            if base.value in self.value:
                return base
        return self

    def returnMoreSignificant(self, other: AlarmCondition) -> AlarmCondition:  # noqa: N802
        levels = AlarmCondition.criticalityList()
        return self if levels.index(self.criticalityLevel()) > levels.index(other.criticalityLevel()) else other

    @staticmethod
    def returnMostSignificant(conditions: list[AlarmCondition]) -> AlarmCondition:  # noqa: N802
        if not conditions:
            return AlarmCondition.NONE
        out = conditions[0]
        for c in conditions:
            out = out.returnMoreSignificant(c)
        return out.criticalityLevel()

    @staticmethod
    def fromString(name: str) -> AlarmCondition:  # noqa: N802
        return AlarmCondition(name)

    def asString(self) -> str:  # noqa: N802
        return self.value

    def isSameCriticality(self, other: AlarmCondition) -> bool:  # noqa: N802
        return self.criticalityLevel() is other.criticalityLevel()

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, AlarmCondition):
            return NotImplemented
        levels = AlarmCondition.criticalityList()
        return levels.index(self.criticalityLevel()) < levels.index(other.criticalityLevel())

    @classmethod
    def from_severity(cls, severity: Any) -> AlarmCondition:
        """ctlshell's alarm severity (NO_ALARM, MINOR, MAJOR, INVALID) as a condition."""
        name = getattr(severity, "name", str(severity))
        return {"MINOR": cls.WARN, "MAJOR": cls.ALARM}.get(name, cls.NONE)


class Unit(Enum):
    """Karabo's unit symbols (``Unit.METER.value == "m"``)."""

    NUMBER = ""
    COUNT = "#"
    METER = "m"
    GRAM = "g"
    SECOND = "s"
    AMPERE = "A"
    KELVIN = "K"
    MOLE = "mol"
    CANDELA = "cd"
    HERTZ = "Hz"
    RADIAN = "rad"
    DEGREE = "deg"
    STERADIAN = "sr"
    NEWTON = "N"
    PASCAL = "Pa"
    JOULE = "J"
    ELECTRONVOLT = "eV"
    WATT = "W"
    COULOMB = "C"
    VOLT = "V"
    FARAD = "F"
    OHM = "Ω"
    SIEMENS = "S"
    WEBER = "Wb"
    TESLA = "T"
    HENRY = "H"
    DEGREE_CELSIUS = "degC"
    LUMEN = "lm"
    LUX = "lx"
    BECQUEREL = "Bq"
    GRAY = "Gy"
    SIEVERT = "Sv"
    KATAL = "kat"
    MINUTE = "min"
    HOUR = "h"
    DAY = "d"
    YEAR = "a"
    BAR = "bar"
    PIXEL = "px"
    BYTE = "B"
    BIT = "bit"
    METER_PER_SECOND = "m/s"
    VOLT_PER_SECOND = "V/s"
    AMPERE_PER_SECOND = "A/s"
    PERCENT = "%"
    NOT_ASSIGNED = "N_A"


class MetricPrefix(Enum):
    """Karabo's metric prefixes (``MetricPrefix.MILLI.value == "m"``)."""

    YOTTA = "Y"
    ZETTA = "Z"
    EXA = "E"
    PETA = "P"
    TERA = "T"
    GIGA = "G"
    MEGA = "M"
    KILO = "k"
    HECTO = "h"
    DECA = "da"
    NONE = ""
    DECI = "d"
    CENTI = "c"
    MILLI = "m"
    MICRO = "u"
    NANO = "n"
    PICO = "p"
    FEMTO = "f"
    ATTO = "a"
    ZEPTO = "z"
    YOCTO = "y"


#: Tango DevState -> Karabo State (Tango names what Karabo does not: STANDBY, FAULT, ALARM).
_TANGO = {
    "ON": "ON", "OFF": "OFF", "CLOSE": "CLOSED", "OPEN": "OPENED", "INSERT": "INSERTED",
    "EXTRACT": "EXTRACTED", "MOVING": "MOVING", "STANDBY": "PASSIVE", "FAULT": "ERROR", "INIT": "INIT",
    "RUNNING": "RUNNING", "ALARM": "ACTIVE", "DISABLE": "DISABLED", "UNKNOWN": "UNKNOWN",
}


def state_from_tango(value: Any) -> State:
    """A Tango ``DevState`` (or its name) as a Karabo :class:`State`; UNKNOWN for anything else."""
    name = getattr(value, "name", None) or str(value).rsplit(".", 1)[-1]
    return State(_TANGO.get(name.upper(), "UNKNOWN"))


def state_from_label(value: Any) -> State | None:
    """A hosted state item's label (``"ON"``, ``"moving"``) as a :class:`State`, or None."""
    if isinstance(value, State):
        return value
    name = str(value).strip().upper()
    return State(name) if name in _PARENTS else None


def state_of_motor(dmov: Any, movn: Any) -> State:
    """A motor record's state: MOVING while MOVN is 1 or DMOV 0, else ON; UNKNOWN when unset."""
    if dmov is None and movn is None:
        return State.UNKNOWN
    if (movn is not None and int(movn)) or (dmov is not None and not int(dmov)):
        return State.MOVING
    return State.ON
