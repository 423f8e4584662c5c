"""An mKTL-style daemon: a sample oven whose temperature ramps to a setpoint.

Serve it headless with persistence::

    ctlshell serve ctlshell.examples.oven:Oven --prefix OVEN: --state oven.db

``SETPOINT`` and ``MODE`` persist across restarts; ``RAMP`` returns to its initial
value. A setpoint more than ``MAX_STEP`` kelvin from the present temperature is
refused by ``validate`` (the client gets the reason; nothing changes).
"""

from __future__ import annotations

from typing import Any

from ctlshell.host import Daemon, Item

MAX_STEP = 200.0


class Setpoint(Item):
    """Refuses too big a step; remembers what it was asked to do."""

    def __init__(self, daemon: Daemon, key: str) -> None:
        super().__init__(daemon, key)
        self.validated: list[float] = []
        self.applied: list[float] = []

    def validate(self, value: Any) -> Any:
        self.validated.append(value)
        temp = self.daemon["TEMP"].value
        if abs(value - temp) > MAX_STEP:
            raise ValueError(f"{value} K is more than {MAX_STEP} K from the present {temp:.1f} K")
        return value

    def req_set(self, value: Any) -> None:
        self.applied.append(value)  # a real oven would talk to its controller here


class Temperature(Item):
    """Moves towards the setpoint at RAMP K/s, once per poll."""

    period = 0.1

    def req_refresh(self) -> float:
        daemon = self.daemon
        target, temp = daemon["SETPOINT"].value, self.value
        if daemon["MODE"].value == 0:  # Off: hold where it is
            return temp
        step = daemon["RAMP"].value * self.period
        if abs(target - temp) <= step:
            return target
        return temp + step if target > temp else temp - step


class Oven(Daemon):
    CATALOG = {
        "SETPOINT": {"type": "numeric", "units": "K", "format": "%.2f", "initial": 295.0,
                     "limits": [4, 500], "persist": True, "description": "temperature setpoint"},
        "TEMP": {"type": "numeric", "units": "K", "format": "%.2f", "initial": 295.0, "settable": False,
                 "alarm_limits": [4, 480], "warning_limits": [10, 450]},
        "RAMP": {"type": "numeric", "units": "K/s", "format": "%.1f", "initial": 5.0, "limits": [0.1, 60]},
        "MODE": {"type": "enumerated", "enumerators": {"0": "Off", "1": "Ramp"}, "initial": 1, "persist": True},
        "NOTE": {"type": "string", "initial": "", "persist": True},
    }

    def setup(self) -> None:
        self.add_item(Setpoint, "SETPOINT")
        self.add_item(Temperature, "TEMP")

    def setup_final(self) -> None:
        temp = self["TEMP"]
        temp.poll(temp.period)  # type: ignore[attr-defined]  # TEMP is a Temperature
