"""Tango acceptance 1-3 and 6: ctlshell's tango:// backend against the ctlshell test
device server in a subprocess, by name through the embedded database ("db") and
directly with #dbase=no ("nodb"); values checked with bare pytango in another process."""

from __future__ import annotations

import numpy as np
import pytest

import ctlshell
from ctlshell import KeepLast, Severity
from ctlshell.core import AddressError, DeviceError, NotFoundError, PutRefusedError, ValidationError

from ..waiting import wait_for
from .tango_fixtures import device, pytango_client


def same(a, b) -> bool:
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


# attribute -> (its initial value, a new value, the value read back)
EVERY_TYPE = {
    "double_scalar": (1.5, -3.25, -3.25),
    "long_scalar": (7, 42, 42),
    "bool_scalar": (False, True, True),
    "string_scalar": ("hello", "beam on", "beam on"),
    "enum_scalar": (1, "HIGH", 2),
    "double_spectrum": (np.arange(8.0), [0.5, 1.5, 2.5], [0.5, 1.5, 2.5]),
    "ushort_image": (np.arange(12).reshape(3, 4), [[1, 2], [3, 4], [5, 6]], [[1, 2], [3, 4], [5, 6]]),
}


def test_every_attribute_type_read_write_subscribe(tango_server):
    """Acceptance 1, for each of the two ways of naming a device."""
    dev = device(tango_server)
    seen: dict[str, list] = {name: [] for name in EVERY_TYPE}
    subs = [ctlshell.monitor(tango_server.address(dev, name), seen[name].append, policy=KeepLast(100))
            for name in EVERY_TYPE]
    try:
        for name, (initial, new, back) in EVERY_TYPE.items():
            address = tango_server.address(dev, name)
            r = ctlshell.get(address)
            assert same(r.value, initial), name
            assert r.severity is Severity.NO_ALARM and abs(r.age) < 10  # the device's own timestamp
            wait_for(lambda: seen[name], 5, f"the first update of {name}")
            assert same(seen[name][0].value, initial)
            ctlshell.put(address, new)
            wait_for(lambda: same(seen[name][-1].value, back), 5, f"the change event of {name}")
            assert same(ctlshell.get(address).value, back)
    finally:
        for sub in subs:
            sub.close()
    # readings are read-only snapshots: a subscriber cannot change what another one sees
    with pytest.raises(ValueError):
        seen["double_spectrum"][-1].value[0] = 9.0
    # an independent client in another process sees what ctlshell wrote
    other = pytango_client(tango_server, "read", *EVERY_TYPE)
    for name, (_, _, back) in EVERY_TYPE.items():
        assert same(other[name], back), name
    if tango_server.database is not None:
        # a bare device name resolves through TANGO_HOST (the run's database, tests/conftest.py)
        assert ctlshell.get(f"tango://{dev}/long_scalar").value == 42
        ctlshell.put(f"tango://{dev}/long_scalar", 43)
        assert ctlshell.get(tango_server.address(dev, "long_scalar")).value == 43
        ctlshell.put(f"tango://{dev}/long_scalar", 42)
    # DevState and the Status string
    motor = device(tango_server, "motor")
    assert ctlshell.get(tango_server.address(motor, "State")).value == "ON"
    assert "ON" in ctlshell.get(tango_server.address(motor, "Status")).value
    assert ctlshell.info(tango_server.address(motor, "State")).dtype == "state"


def test_metadata_from_attribute_configuration(tango_server):
    """Acceptance 2: unit, format -> precision, min/max value -> limits, alarms, description, access."""
    dev = device(tango_server)
    meta = ctlshell.info(tango_server.address(dev, "double_scalar"))
    assert meta.dtype == "double" and meta.units == "mm" and meta.precision == 3
    assert meta.control_limits == (-100.0, 100.0)
    assert meta.alarm_limits == (-90.0, 90.0) and meta.warning_limits == (-50.0, 50.0)
    assert meta.description == "a double with limits, alarms and warnings" and meta.access == "rw"
    assert ctlshell.info(tango_server.address(dev, "quality_double")).access == "r"
    assert ctlshell.info(tango_server.address(dev, "enum_scalar")).choices == ("OFF", "LOW", "HIGH")
    image = ctlshell.info(tango_server.address(dev, "ushort_image"))
    assert image.dtype == "ushort" and image.count == 16 * 16
    spectrum = ctlshell.info(tango_server.address(dev, "double_spectrum"))
    assert spectrum.units == "V" and spectrum.count == 64 and spectrum.control_limits is None
    # a read on the caller's thread (no loop hop) still shows in status()
    long_scalar = tango_server.address(dev, "long_scalar")
    value = ctlshell.get(long_scalar).value
    (entry,) = [st for st in ctlshell.status() if st.address == long_scalar]
    assert str(entry.state) == "connected" and entry.value == value


def test_quality_is_severity(tango_server):
    """Acceptance 2: ALARM/WARNING/INVALID quality shows as MAJOR/MINOR/INVALID, in gets and events."""
    dev = device(tango_server)
    address = tango_server.address(dev, "quality_double")
    set_quality = ctlshell.command(tango_server.address(dev, "->SetQuality"))
    seen: list = []
    with ctlshell.monitor(address, seen.append, policy=KeepLast(100)):
        wait_for(lambda: seen, 5, "the first update")
        for quality, severity in [("ALARM", Severity.MAJOR), ("WARNING", Severity.MINOR),
                                  ("INVALID", Severity.INVALID), ("CHANGING", Severity.NO_ALARM),
                                  ("VALID", Severity.NO_ALARM)]:
            set_quality(quality)
            r = ctlshell.get(address)
            assert r.severity is severity and r.status == ("" if quality == "VALID" else quality)
            wait_for(lambda: seen[-1].status == r.status and seen[-1].severity is severity, 5, quality)
    # the alarm configuration of an attribute sets its quality too
    scalar = tango_server.address(dev, "double_scalar")
    for value, severity in [(95.0, Severity.MAJOR), (60.0, Severity.MINOR), (1.0, Severity.NO_ALARM)]:
        ctlshell.put(scalar, value)
        assert ctlshell.get(scalar).severity is severity


def test_bad_writes_are_refused_before_sending(tango_server):
    """Acceptance 2 and the bad-input rule: nothing reaches the device, its value is unchanged."""
    dev = device(tango_server)
    scalar = tango_server.address(dev, "double_scalar")
    ctlshell.put(scalar, 12.5)
    with pytest.raises(ValidationError, match=r"101.0 mm is outside the limits \[-100.0, 100.0\] mm"):
        ctlshell.put(scalar, 101)
    for bad in ("warm", True, None, [1.0, 2.0], float("nan")):
        with pytest.raises(ValidationError):
            ctlshell.put(scalar, bad)
    with pytest.raises(ValidationError, match="does not fit a long"):
        ctlshell.put(tango_server.address(dev, "long_scalar"), 2**40)
    with pytest.raises(ValidationError, match="not one of"):
        ctlshell.put(tango_server.address(dev, "enum_scalar"), "MEDIUM")
    with pytest.raises(ValidationError, match="shape"):
        ctlshell.put(tango_server.address(dev, "double_spectrum"), np.zeros(65))
    with pytest.raises(ValidationError, match="two-dimensional"):
        ctlshell.put(tango_server.address(dev, "ushort_image"), [1, 2, 3])
    with pytest.raises(ValidationError, match="does not fit a ushort"):
        ctlshell.put(tango_server.address(dev, "ushort_image"), [[1, -2]])
    with pytest.raises(PutRefusedError, match="read-only"):
        ctlshell.put(tango_server.address(dev, "quality_double"), 1.0)
    with pytest.raises(NotFoundError, match="API_AttrNotFound"):
        ctlshell.get(tango_server.address(dev, "no_such_attribute"))
    with pytest.raises(AddressError, match="malformed Tango address"):
        ctlshell.get("tango://only/two")
    with pytest.raises(AddressError, match="names a device"):
        ctlshell.get(tango_server.address(dev))
    # the device never saw any of it (independent client)
    other = pytango_client(tango_server, "read", "double_scalar", "long_scalar", "enum_scalar")
    assert other == {"double_scalar": 12.5, "long_scalar": EVERY_TYPE["long_scalar"][2], "enum_scalar": 2}


def test_unknown_device_is_an_error_naming_it(tango_db):
    for address in (f"tango://{tango_db.host}/test/nosuch/device/x", "tango://test/nosuch/device/x"):
        with pytest.raises(NotFoundError, match="test/nosuch/device not defined in the database"):
            ctlshell.get(address)
    with pytest.raises(NotFoundError, match="DB_DeviceNotDefined"):
        ctlshell.command("tango://test/nosuch/device->Init")()


def test_change_events_arrive_in_order(tango_server):
    """Acceptance 3: a device pushing 1000 events/s; a keep-last-N subscriber gets all, in order."""
    dev = device(tango_server)
    seen: list[float] = []
    start = ctlshell.get(tango_server.address(dev, "counter")).value
    with ctlshell.monitor(tango_server.address(dev, "counter"), lambda r: seen.append(r.value),
                          policy=KeepLast(10_000)) as sub:
        wait_for(lambda: seen, 5, "the first update")
        ctlshell.command(tango_server.address(dev, "->StartPush"))([500, 1000])
        wait_for(lambda: seen[-1] == start + 500, 10, "the last pushed value")
    assert seen == [start + i for i in range(501)]
    assert sub.dropped == 0


def test_polling_when_the_device_sends_no_events(tango_server):
    """Acceptance 3: no change events configured -> polling delivers updates; info says which mode."""
    dev = device(tango_server)
    polled = tango_server.address(dev, "noevent_double")
    assert ctlshell.info(polled).updates == "not subscribed"
    seen: list = []
    with ctlshell.monitor(polled, seen.append, policy=KeepLast(100)):
        wait_for(lambda: seen, 5, "the first polled value")
        assert ctlshell.info(polled).updates.startswith("polling every")
        assert "API_AttributePollingNotStarted" in ctlshell.info(polled).updates
        ctlshell.put(polled, 33.0)
        wait_for(lambda: seen[-1].value == 33.0, 5, "the polled change")
        ctlshell.put(polled, 34.0)
        wait_for(lambda: seen[-1].value == 34.0, 5, "the second polled change")
    # only changes are delivered, like events (no repeats of the same value)
    values = [r.value for r in seen]
    assert values == sorted(set(values), key=values.index)
    with ctlshell.monitor(tango_server.address(dev, "double_scalar"), lambda r: None):
        wait_for(lambda: ctlshell.info(tango_server.address(dev, "double_scalar")).updates.startswith(
            "change events"), 5, "the event subscription")


def test_commands(tango_server):
    """Acceptance 6: commands with and without arguments; wrong arguments refused before sending."""
    dev = device(tango_server)
    tick = ctlshell.command(tango_server.address(dev, "->Tick"))
    first = tick()
    assert isinstance(first, int) and tick() == first + 1
    assert ctlshell.command(tango_server.address(dev, "->Sum"))([1, 2, 3.5]) == 6.5
    assert ctlshell.command(tango_server.address(dev, "->Echo"))("über") == "über"
    echo_info = ctlshell.command(tango_server.address(dev, "->Echo")).info()
    assert (echo_info.in_type, echo_info.out_type) == ("string", "string")
    assert str(ctlshell.command(tango_server.address(dev, "->Sum")).info()) == "Sum(double[]) -> double"

    with pytest.raises(ValidationError, match="takes no argument"):
        tick(3)
    with pytest.raises(ValidationError, match="expected a one-dimensional sequence of double"):
        ctlshell.command(tango_server.address(dev, "->Sum"))("1,2")
    with pytest.raises(ValidationError, match=r"Sum.* element \[1\]: expected a number"):
        ctlshell.command(tango_server.address(dev, "->Sum"))([1, "x"])
    with pytest.raises(ValidationError, match="needs an argument of type double"):
        ctlshell.command(tango_server.address(dev, "->Scale"))()
    with pytest.raises(ValidationError, match="expected a string"):
        ctlshell.command(tango_server.address(dev, "->Echo"))(5)
    with pytest.raises(NotFoundError, match="API_CommandNotFound"):
        ctlshell.command(tango_server.address(dev, "->NoSuchCommand"))()
    with pytest.raises(AddressError, match="is not a command address"):
        ctlshell.command(tango_server.address(dev, "double_scalar"))()
    assert tick() == first + 2  # none of the refused calls reached the device
    # a device error keeps Tango's reason and text in one line
    with pytest.raises(DeviceError) as info:
        ctlshell.command(tango_server.address(dev, "->SetQuality"))("PURPLE")
    assert "CtlTest_BadQuality: unknown quality 'PURPLE'" in str(info.value)
    assert "\n" not in str(info.value)


def test_motor_state_machine(tango_server):
    """The motor: a move goes ON -> MOVING -> ON (change events of State); a move
    while moving is refused by the device with its reason."""
    motor = device(tango_server, "motor")
    states: list[str] = []
    positions: list[float] = []
    with ctlshell.monitor(tango_server.address(motor, "State"), lambda r: states.append(r.value),
                          policy=KeepLast(100)), \
         ctlshell.monitor(tango_server.address(motor, "position"), lambda r: positions.append(r.value),
                          policy=KeepLast(1000)):
        wait_for(lambda: states and positions, 5, "the first updates")
        start = positions[-1]
        ctlshell.put(tango_server.address(motor, "velocity"), 10.0)  # 2 mm take 0.2 s
        ctlshell.command(tango_server.address(motor, "->MoveRelative"))(2.0)
        with pytest.raises(DeviceError, match="API_CommandNotAllowed"):
            ctlshell.command(tango_server.address(motor, "->MoveRelative"))(1.0)
        wait_for(lambda: states[-1] == "ON" and "MOVING" in states, 5, "the move to end")
        # the State event and the last position event come on two streams: either may be first
        wait_for(lambda: positions[-1] == pytest.approx(start + 2.0), 5, "the final position")
    assert positions[-1] == pytest.approx(start + 2.0)
    assert positions == sorted(positions)
    assert states[0] == "ON" and states.index("MOVING") < len(states) - 1


def test_a_global_green_mode_of_the_users_code_does_not_change_ctlshell(tango_server):
    """A notebook that switched pytango to asyncio globally still gets readings from
    ctlshell (its proxies are synchronous whatever the global mode)."""
    import asyncio

    import tango

    from ctlshell.backends.tango import TangoBackend

    address = tango_server.address(device(tango_server), "double_scalar")
    name = address.removeprefix("tango://")
    backend = TangoBackend()  # proxies of its own, made while the global mode is Asyncio
    tango.set_green_mode(tango.GreenMode.Asyncio)
    try:
        reading = backend.get_now(name, 5.0)
        assert isinstance(reading.value, float)

        async def put_then_get():
            await backend.put(name, 2.75, wait=True, timeout=5.0)
            return await backend.get(name, 5.0)

        assert asyncio.run(put_then_get()).value == 2.75
        assert backend.get_now(name, 5.0).value == 2.75
    finally:
        tango.set_green_mode(tango.GreenMode.Synchronous)
        asyncio.run(backend.close())
