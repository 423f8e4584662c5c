"""Tango device classes for ctlshell's tests and demo, run as a device server process.

``python -m ctlshell.testing._tango_devices INSTANCE [tango server options]`` serves
every device registered for ``CtlShellTest/INSTANCE`` (in a Tango database, or in a
``-file=`` database for ``#dbase=no`` access). :class:`~ctlshell.testing.TangoServer`
starts it; nothing else in ctlshell imports this module.

Four classes:

- :class:`CtlTestDevice`, a TangoTest-like device with one attribute of every type
  ctlshell supports, each writable one pushing a change event on write; an attribute
  whose quality a command sets; one without any event configuration (clients must
  poll it); a counter a command floods with change events.
- :class:`CtlMotor`, a motor with a State machine (ON, MOVING) moving its position
  at its velocity and pushing change events of position and State as it goes.
- :class:`CtlStage`, a small stage for the device-proxy tests.
- :class:`CtlWide`, a device with a hundred attributes (the cost of a wide proxy).
"""

from __future__ import annotations

import enum
import struct
import threading
import time
from typing import Any

import numpy as np
import tango
from tango import AttrQuality, AttrWriteType, DevState
from tango.server import Device, attribute, command, run

SERVER = "CtlShellTest"
QUALITIES = {"VALID": AttrQuality.ATTR_VALID, "WARNING": AttrQuality.ATTR_WARNING,
             "ALARM": AttrQuality.ATTR_ALARM, "INVALID": AttrQuality.ATTR_INVALID,
             "CHANGING": AttrQuality.ATTR_CHANGING}

__all__ = ["SERVER", "CtlMotor", "CtlStage", "CtlTestDevice", "CtlWide", "main"]


class Mode(enum.IntEnum):
    OFF = 0
    LOW = 1
    HIGH = 2


def _rw(**kwargs: object) -> attribute:
    return attribute(access=AttrWriteType.READ_WRITE, **kwargs)


def _plain(name: str, **kwargs: object) -> attribute:
    """A read-write attribute kept in ``self._values``; a write pushes a change event."""

    def fget(self: CtlTestDevice) -> object:
        return self._values[name]

    def fset(self: CtlTestDevice, value: object) -> None:
        self._values[name] = value
        if name != "noevent_double":
            self._push(name)

    return attribute(name=name, fget=fget, fset=fset, access=AttrWriteType.READ_WRITE, **kwargs)


class CtlTestDevice(Device):
    """Every attribute type; writes push change events (quality from the alarm config)."""

    double_scalar = _plain("double_scalar", dtype=float, unit="mm", format="%6.3f", min_value=-100,
                           max_value=100, min_alarm=-90, max_alarm=90, min_warning=-50, max_warning=50,
                           doc="a double with limits, alarms and warnings")
    long_scalar = _plain("long_scalar", dtype=np.int32, unit="counts", min_value=0, max_value=1000,
                         doc="a DevLong")
    bool_scalar = _plain("bool_scalar", dtype=bool, doc="a DevBoolean")
    string_scalar = _plain("string_scalar", dtype=str, doc="a DevString")
    enum_scalar = _plain("enum_scalar", dtype=Mode, doc="a DevEnum")
    double_spectrum = _plain("double_spectrum", dtype=(float,), max_dim_x=64, unit="V",
                             doc="a spectrum of doubles")
    ushort_image = _plain("ushort_image", dtype=((np.uint16,),), max_dim_x=16, max_dim_y=16,
                          doc="an image of DevUShort")
    quality_double = attribute(dtype=float, doc="quality set by the SetQuality command")
    noevent_double = _plain("noevent_double", dtype=float, unit="K",
                            doc="no change events configured: clients poll")
    counter = attribute(dtype=float, doc="pushed by StartPush as fast as asked")
    encoded = attribute(dtype=tango.DevEncoded, access=AttrWriteType.READ_WRITE,
                        doc="a DevEncoded (format, bytes), read back as written")
    lima_image = attribute(dtype=tango.DevEncoded, doc="LImA's VIDEO_IMAGE of a 3x4 Y16 image (0..11)")
    late_double = attribute(dtype=float, doc="no change events until EnableEvents")

    def init_device(self) -> None:
        super().init_device()
        self._values: dict[str, Any] = {
            "double_scalar": 1.5, "long_scalar": 7, "bool_scalar": False, "string_scalar": "hello",
            "enum_scalar": Mode.LOW, "double_spectrum": np.arange(8, dtype=np.float64),
            "ushort_image": np.arange(12, dtype=np.uint16).reshape(3, 4), "noevent_double": 20.0,
        }
        self._quality = (0.0, AttrQuality.ATTR_VALID)
        self._counter = 0.0
        self._encoded = ("RAW", b"\x00\x01")
        self._late = 0.0
        self._pusher: threading.Thread | None = None
        self._push_done = threading.Event()
        self._push_done.set()
        # implemented=True, detect=False: every push is sent as it is
        for name in [*self._values, "quality_double", "counter"]:
            if name != "noevent_double":
                self.set_change_event(name, True, False)
        self.set_state(DevState.ON)

    def _push(self, name: str) -> None:
        # set the value on the attribute object so Tango applies the alarm/warning
        # configuration to its quality, then send that
        attr = self.get_device_attr().get_attr_by_name(name)
        attr.set_value(self._values[name])
        attr.fire_change_event()

    def read_quality_double(self) -> tuple[float, float, AttrQuality]:
        value, quality = self._quality
        return value, time.time(), quality

    def read_counter(self) -> float:
        return self._counter

    def read_encoded(self) -> tuple[str, bytes]:
        return self._encoded

    def write_encoded(self, value: tuple[str, bytes]) -> None:
        fmt, data = value
        self._encoded = (fmt, bytes(data))

    def read_lima_image(self) -> tuple[str, bytes]:
        # LImA's video header, written out here independently of ctlshell's decoder:
        # magic "VDEO", version 1, mode Y16 (1), frame 7, width 4, height 3,
        # endianness 0 (little), header size 32, padding
        pixels = np.arange(12, dtype="<u2").reshape(3, 4)
        header = struct.pack("!IHHqiiHHHH", 0x5644454F, 1, 1, 7, 4, 3, 0, 32, 0, 0)
        return "VIDEO_IMAGE", header + pixels.tobytes()

    def read_late_double(self) -> float:
        return self._late

    @command(doc_in="late_double starts sending change events (pushed by SetLate)")
    def EnableEvents(self) -> None:
        self.set_change_event("late_double", True, False)

    @command(dtype_in=float)
    def SetLate(self, value: float) -> None:
        self._late = value
        try:
            self.push_change_event("late_double", value)
        except tango.DevFailed:
            pass  # no events enabled yet: clients poll

    @command(dtype_in=DevState, dtype_out=DevState, doc_in="the state to take", doc_out="the state now")
    def ForceState(self, state: DevState) -> DevState:
        self.set_state(state)
        return self.get_state()

    @command(dtype_in=str, doc_in="VALID, WARNING, ALARM, INVALID or CHANGING")
    def SetQuality(self, name: str) -> None:
        quality = QUALITIES.get(name.upper())
        if quality is None:
            tango.Except.throw_exception("CtlTest_BadQuality", f"unknown quality {name!r}", "SetQuality")
        value = self._quality[0] + 1.0
        self._quality = (value, quality)
        self.push_change_event("quality_double", value, time.time(), quality)

    @command(dtype_in=float, dtype_out=float, doc_in="factor", doc_out="double_scalar after scaling")
    def Scale(self, factor: float) -> float:
        self._values["double_scalar"] *= factor
        self._push("double_scalar")
        return self._values["double_scalar"]

    @command(dtype_in=(float,), dtype_out=float, doc_in="numbers", doc_out="their sum")
    def Sum(self, numbers: np.ndarray) -> float:
        return float(np.sum(numbers))

    @command(dtype_in=str, dtype_out=str)
    def Echo(self, text: str) -> str:
        return text

    @command(dtype_out=int, doc_out="how many times Tick was called")
    def Tick(self) -> int:
        self._counter += 1
        self.push_change_event("counter", self._counter)
        return int(self._counter)

    @command(dtype_in=(float,), doc_in="[n, rate in Hz (0: as fast as possible)]")
    def StartPush(self, args: np.ndarray) -> None:
        if not self._push_done.is_set():
            tango.Except.throw_exception("CtlTest_Busy", "a push run is still going", "StartPush")
        n, rate = int(args[0]), float(args[1])
        self._push_done.clear()
        self._pusher = threading.Thread(target=self._push_run, args=(n, rate), daemon=True)
        self._pusher.start()

    @command(dtype_out=bool, doc_out="True when the last StartPush run has finished")
    def PushDone(self) -> bool:
        return self._push_done.is_set()

    def _push_run(self, n: int, rate: float) -> None:
        period = 1.0 / rate if rate > 0 else 0.0
        start = time.perf_counter()
        try:
            for i in range(n):
                if period:
                    delay = start + i * period - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                self._counter += 1.0
                self.push_change_event("counter", self._counter)
        finally:
            self._push_done.set()


class CtlMotor(Device):
    """A motor: writing ``position`` (or MoveRelative) moves it at ``velocity``; Stop halts it."""

    position = _rw(dtype=float, unit="mm", format="%8.3f", min_value=-50, max_value=50,
                   doc="setpoint on write, current position on read")
    velocity = _rw(dtype=float, unit="mm/s", min_value=0.1, max_value=1000)

    def init_device(self) -> None:
        super().init_device()
        self._position = 0.0
        self._velocity = 20.0
        self._target = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._mover: threading.Thread | None = None
        self.set_change_event("position", True, False)
        self.set_change_event("State", True, False)
        self._set_state(DevState.ON)

    def _set_state(self, state: DevState) -> None:
        self.set_state(state)
        self.set_status(f"The motor is {state}")
        self.push_change_event("State")

    def read_position(self) -> float:
        return self._position

    def write_position(self, target: float) -> None:
        self._move_to(target)

    def read_velocity(self) -> float:
        return self._velocity

    def write_velocity(self, value: float) -> None:
        self._velocity = value

    def _move_to(self, target: float) -> None:
        with self._lock:
            if self.get_state() == DevState.MOVING:
                tango.Except.throw_exception("CtlMotor_Moving", "the motor is moving; Stop it first", "move")
            self._target = target
            self._stop.clear()
            self._set_state(DevState.MOVING)
            self._mover = threading.Thread(target=self._move, daemon=True)
            self._mover.start()

    def _move(self, step_s: float = 0.02) -> None:
        while not self._stop.wait(step_s):
            remaining = self._target - self._position
            step = self._velocity * step_s
            self._position = self._target if abs(remaining) <= step else self._position + np.sign(remaining) * step
            self.push_change_event("position", self._position)
            if self._position == self._target:
                break
        with self._lock:
            self._set_state(DevState.ON)

    @command(dtype_in=float, doc_in="distance in mm")
    def MoveRelative(self, distance: float) -> None:
        target = self._position + distance
        if not -50 <= target <= 50:
            tango.Except.throw_exception("CtlMotor_Limit", f"target {target} mm is outside [-50, 50] mm",
                                         "MoveRelative")
        self._move_to(target)

    def is_MoveRelative_allowed(self) -> bool:
        return self.get_state() == DevState.ON

    @command
    def Stop(self) -> None:
        self._stop.set()


class CtlStage(Device):
    """A stage for device-proxy tests: ``position`` (m, -1..1), ``offset`` (mm), ``speed``
    (mm/s), a read-only ``counter`` set by ``SetCounter``, and a ``home`` command. Every
    value keeps the time it was set (reads and change events carry it)."""

    position = _rw(dtype=float, unit="m", min_value=-1, max_value=1)
    offset = _rw(dtype=float, unit="mm")
    speed = _rw(dtype=float, unit="mm/s")
    counter = attribute(dtype=int)

    def init_device(self) -> None:
        super().init_device()
        now = time.time()
        self._stage: dict[str, tuple[object, float]] = {"position": (0.0, now), "offset": (0.0, now), "speed": (1.0, now), "counter": (0, now)}
        for name in self._stage:
            self.set_change_event(name, True, False)
        self.set_state(DevState.ON)

    def _set(self, name: str, value: object) -> None:
        stamp = time.time()
        self._stage[name] = (value, stamp)
        self.push_change_event(name, value, stamp, AttrQuality.ATTR_VALID)

    def _get(self, name: str) -> tuple[object, float, AttrQuality]:
        value, stamp = self._stage[name]
        return value, stamp, AttrQuality.ATTR_VALID

    def read_position(self) -> tuple[object, float, AttrQuality]:
        return self._get("position")

    def write_position(self, value: float) -> None:
        self._set("position", value)

    def read_offset(self) -> tuple[object, float, AttrQuality]:
        return self._get("offset")

    def write_offset(self, value: float) -> None:
        self._set("offset", value)

    def read_speed(self) -> tuple[object, float, AttrQuality]:
        return self._get("speed")

    def write_speed(self, value: float) -> None:
        self._set("speed", value)

    def read_counter(self) -> tuple[object, float, AttrQuality]:
        return self._get("counter")

    @command(dtype_in=int, doc_in="the new counter value")
    def SetCounter(self, value: int) -> None:
        self._set("counter", int(value))

    @command(dtype_out=str, doc_out="what was done")
    def home(self) -> str:
        """Drive to zero."""
        self._set("position", 0.0)
        return "homed"


class CtlWide(Device):
    """A device with :data:`WIDE_ATTRIBUTES` double attributes ``a000``... (dynamic, each
    pushing change events on write), for the cost of a proxy of a wide device (issue 18)."""

    def init_device(self) -> None:
        super().init_device()
        self._values = dict.fromkeys((f"a{i:03d}" for i in range(WIDE_ATTRIBUTES)), 0.0)
        self.set_state(DevState.ON)

    def initialize_dynamic_attributes(self) -> None:
        for name in sorted(self._values if hasattr(self, "_values") else
                           (f"a{i:03d}" for i in range(WIDE_ATTRIBUTES))):
            attr = tango.server.attribute(name=name, dtype=float, access=AttrWriteType.READ_WRITE,
                                          fget=self._read_wide, fset=self._write_wide)
            self.add_attribute(attr)
            self.set_change_event(name, True, False)

    def _read_wide(self, attr: tango.Attribute) -> float:
        return self._values[attr.get_name()]

    def _write_wide(self, attr: tango.WAttribute) -> None:
        name = attr.get_name()
        self._values[name] = float(attr.get_write_value())
        self.push_change_event(name, self._values[name])


#: attributes of a :class:`CtlWide`
WIDE_ATTRIBUTES = 100


def main(argv: list[str] | None = None) -> None:
    """Run the CtlShellTest server; ``argv`` is ``[INSTANCE, tango options...]``.

    ``CTLSHELL_TANGO_CLASSES`` (comma-separated) limits the classes served: a server
    without a database must serve only classes that have devices.
    """
    import os
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    known = {cls.__name__: cls for cls in (CtlTestDevice, CtlMotor, CtlStage, CtlWide)}
    wanted = os.environ.get("CTLSHELL_TANGO_CLASSES", ",".join(known)).split(",")
    run(tuple(known[name] for name in wanted), args=[SERVER, *args])


if __name__ == "__main__":
    main()
