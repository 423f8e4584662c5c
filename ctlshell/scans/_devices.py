"""bluesky devices made from ctlshell addresses, without writing a class.

- :func:`signal` -- a readable (and, when the channel is writable, settable)
  ophyd-async signal for any address.
- :class:`AddressMotor` -- a movable: a setpoint, a readback, and the way to stop
  it. :func:`motor` finds them for an EPICS motor record or a ctlshell motor device
  (``NAME`` with ``NAME.RBV``, ``NAME.MOVN``/``NAME.DMOV`` and ``NAME.STOP``), and
  for a Tango motor's attribute (``tango://.../DEVICE/position``: moving while the
  device's ``State`` is MOVING, stopped by its ``Stop`` command).
- :func:`device` -- a motor where the address is one, else a signal.

Each device is connected on bluesky's event loop when it is made; a bad address
fails here, before any plan moves anything. Devices are cached per address, so a
plan and the shell share one device (and, through the channel cache, one upstream
subscription).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from bluesky.protocols import Location
from bluesky.run_engine import call_in_bluesky_event_loop
from ophyd_async.core import (
    AsyncStatus,
    SignalR,
    SignalRW,
    StandardReadable,
    StandardReadableFormat,
)

from ..api import command, info, session
from ..core import CtlshellError, parse_address
from ._backend import AddressBackend
from ._engine import run_engine

__all__ = ["AddressMotor", "device", "motor", "signal"]

#: Seconds a move may take before its status fails (the motor is then stopped).
MOVE_TIMEOUT = 3600.0
#: Seconds to wait for a motor record's ``.RBV``/``.STOP`` before taking the address as
#: a plain settable channel (give ``readback=``/``stop=`` to skip the look-up).
PROBE_TIMEOUT = 1.0
#: How often a move that completed its put early is checked, and how many unchanged
#: reads of a motor not moving end it short of its target (a limit, a stop).
SETTLE_POLL, SETTLED_READS = 0.02, 10
#: Seconds a completed move may take to start before the motor is taken as not moving.
NO_MOTION_GRACE = 2.0
_devices: dict[str, Any] = {}
_lock = threading.Lock()


def _name(address: str) -> str:
    """The device name of an address: its name, with ``.`` and ``/`` (which bluesky
    keeps out of data keys) as ``_``: ``DEMO:MOTOR.RBV`` -> ``DEMO:MOTOR_RBV``; a Tango
    address's options (``#dbase=no``) are not part of it."""
    name = parse_address(address, session().config.default_scheme).name.partition("#")[0]
    return name.replace(".", "_").replace("/", "_")


def _connect(dev: Any, timeout: float) -> Any:
    run_engine()  # bluesky's loop runs from here on
    call_in_bluesky_event_loop(dev.connect(timeout=timeout), timeout=timeout + 5)
    return dev


def _make_signal(address: str, name: str, backend: AddressBackend | None = None) -> SignalR[Any]:
    meta = info(address)
    backend = backend or AddressBackend(address)
    cls = SignalRW if meta.writable else SignalR
    return cls(backend, name=name, timeout=None)


def signal(address: str, name: str | None = None, *, timeout: float | None = None) -> SignalR[Any]:
    """A connected ophyd-async signal for ``address`` (SignalRW when writable).

    Raises
    ------
    AddressError, ChannelTimeoutError
        The address is malformed or does not answer: nothing was made.
    """
    key = f"signal|{address}|{name}"
    with _lock:
        if key in _devices:
            return _devices[key]
    sig = _make_signal(address, name or _name(address))
    _connect(sig, timeout or session().config.timeout)
    with _lock:
        return _devices.setdefault(key, sig)


class AddressMotor(StandardReadable):
    """A movable made of ctlshell addresses.

    Parameters
    ----------
    setpoint : str
        Written by ``set``; a put that completes when the move has ended (motor
        records, ctlshell devices) makes ``set`` complete then too.
    readback : str, optional
        Read in each event under the motor's own name; the setpoint when omitted.
    stop : str, optional
        Written 1 to stop (``.STOP`` of a motor record).
    name : str
    moving : str, optional
        Read while a move that completed its put early goes on (``.MOVN``, a Tango
        ``State``); moving while ``is_moving`` of its value is true.
    is_moving : callable, optional
        Whether a value of ``moving`` means moving (default: a non-zero value).

    A ``stop`` address naming a Tango command (``...->Stop``) is executed, not written.
    """

    def __init__(self, setpoint: str, readback: str | None = None, stop: str | None = None,
                 name: str = "", moving: str | None = None,
                 is_moving: Callable[[Any], bool] = bool) -> None:
        self._readback = AddressBackend(readback or setpoint)
        with self.add_children_as_readables(StandardReadableFormat.HINTED_SIGNAL):
            self.user_readback = _make_signal(readback or setpoint, "", self._readback)
        self.user_setpoint = SignalRW(AddressBackend(setpoint), timeout=None)
        self.stop_address = stop
        self._stop_command = parse_address(stop, session().config.default_scheme) if stop and "->" in stop else None
        self._stop_backend = AddressBackend(stop) if stop and self._stop_command is None else None
        self._is_moving = is_moving
        self.motor_stop = SignalRW(self._stop_backend, timeout=None) if self._stop_backend else None
        self._moving_backend = AddressBackend(moving) if moving else None
        self.motor_moving = SignalR(self._moving_backend, timeout=None) if self._moving_backend else None
        self.setpoint_address, self.readback_address = setpoint, readback or setpoint
        super().__init__(name=name)

    def set_name(self, name: str, *, child_name_separator: str | None = None) -> None:
        super().set_name(name, child_name_separator=child_name_separator)
        self.user_readback.set_name(name)  # events carry the motor's name, as ophyd's do

    @AsyncStatus.wrap
    async def set(self, value: float) -> None:
        """Move to ``value``; done when the move has ended (the put's completion, and
        the moving flag back to 0 with the readback at the target or settled)."""
        await self.user_setpoint.set(value, timeout=MOVE_TIMEOUT)
        if self._moving_backend is not None:
            await self._settle(float(value))
        # the readback is a channel of its own (a staged one is read from its monitor):
        # the point after the move must not record the position before it
        await self._readback.caught_up()

    async def _settle(self, target: float) -> None:
        # some servers complete the put at once (caproto's fake motor record): wait for
        # the moving flag and the readback, which stops either at the target or short of
        # it (a limit, a stop) -- then it no longer changes
        assert self._moving_backend is not None
        meta = self._readback.meta
        precision = meta.precision if meta is not None and meta.precision else 6
        tolerance = max(10.0 ** -precision, 1e-9 * abs(target))
        last, still, start, started = None, 0, None, False
        give_up = asyncio.get_running_loop().time() + NO_MOTION_GRACE
        while True:
            moving = self._is_moving((await self._moving_backend.raw()).value)  # an enum's index, not its label
            position = float(await self.user_readback.get_value())
            if not moving and abs(position - target) <= tolerance:
                return
            start = position if start is None else start
            # a motor that has not begun to move is not yet "settled short" (a loaded
            # server may start it late); one that never moves (at a limit) ends after the grace
            started = started or moving or position != start
            still = still + 1 if not moving and position == last else 0
            if still >= SETTLED_READS and (started or asyncio.get_running_loop().time() > give_up):
                return
            last = position
            await asyncio.sleep(SETTLE_POLL)

    async def stop(self, success: bool = True) -> None:
        """Stop the motion (bluesky calls this on pause, abort and Ctrl-C)."""
        if self._stop_command is not None:
            s, command = session(), self._stop_command
            backend = s.registry.get(command.scheme)
            await AddressBackend._on_runtime(backend.execute(command.name, None, s.config.timeout))  # noqa: SLF001
        elif self._stop_backend is not None:
            await self._stop_backend.put(1, wait=False)  # no put-callback: a move is in progress

    async def locate(self) -> Location[float]:
        setpoint, readback = await self.user_setpoint.get_value(), await self.user_readback.get_value()
        return Location(setpoint=setpoint, readback=readback)


def _is_tango_moving(state: Any) -> bool:
    return str(state) == "MOVING"


def _tango_motor_parts(address: str) -> tuple[str, None, str, str]:
    """(setpoint, readback, stop, moving) of a Tango motor's attribute at ``address``:
    the attribute itself, the device's ``Stop`` command and its ``State``."""
    path, hash_, fragment = address.partition("#")
    device = path.rsplit("/", 1)[0]
    tail = hash_ + fragment
    return address, None, f"{device}->Stop{tail}", f"{device}/State{tail}"


def _motor_parts(address: str) -> tuple[str, str | None, str | None, str | None]:
    """(setpoint, readback, stop, moving) of a motor record or ctlshell motor at ``address``."""
    addr = parse_address(address, session().config.default_scheme)
    base = str(addr)
    if addr.scheme == "tango" and "->" not in addr.name:
        setpoint, _, stop, moving = _tango_motor_parts(base)
        try:
            info(moving, timeout=PROBE_TIMEOUT)
            command(stop).info(timeout=PROBE_TIMEOUT)
        except CtlshellError:
            return base, None, None, None  # a plain attribute: set by writing it
        return setpoint, None, stop, moving
    parts: list[str | None] = []
    for field in (".RBV", ".STOP", ".MOVN"):
        if field != ".RBV" and parts[0] is None:
            parts.append(None)  # not a motor record: no need to look further
            continue
        try:
            info(base + field, timeout=PROBE_TIMEOUT)
            parts.append(base + field)
        except CtlshellError:
            parts.append(None)
    return base, parts[0], parts[1], parts[2]


def motor(address: str, name: str | None = None, *, readback: str | None = None,
          stop: str | None = None, timeout: float | None = None) -> AddressMotor:
    """A connected movable for ``address``: its readback and stop found as for an
    EPICS motor record (``.RBV``, ``.STOP``) unless given.

    Raises
    ------
    AddressError, ChannelTimeoutError
        The setpoint is malformed or does not answer; nothing was made.
    """
    key = f"motor|{address}|{name}|{readback}|{stop}"
    with _lock:
        if key in _devices:
            return _devices[key]
    setpoint, found_rbv, found_stop, found_moving = _motor_parts(address)
    tango = parse_address(setpoint, session().config.default_scheme).scheme == "tango"
    dev = AddressMotor(setpoint, readback or found_rbv, stop or found_stop, name=name or _name(address),
                       moving=found_moving if readback is None else None,
                       is_moving=_is_tango_moving if tango else bool)
    _connect(dev, timeout or session().config.timeout)
    with _lock:
        return _devices.setdefault(key, dev)


def device(address: Any) -> Any:
    """``address`` as a bluesky device: a motor when it has a readback (``.RBV``), else a
    signal. Devices (anything not a str) are returned as they are."""
    if not isinstance(address, str):
        return address
    addr = parse_address(address, session().config.default_scheme)
    try:
        info(str(addr) + ".RBV", timeout=PROBE_TIMEOUT)
    except CtlshellError:
        return signal(address)
    return motor(address)
