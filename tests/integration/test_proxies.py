"""Issue 8, Karabo-style device proxies: one test body run against every kind of device.

Kinds: ``daemon`` (an mKTL-style Daemon hosted here, proxied over ``local://``),
``epics`` (a caproto PVGroup hosted here, proxied over ``ca://`` with a PV list, so
every read and write crosses Channel Access) and ``tango`` (a CtlStage device in a
Tango device server subprocess, registered in the embedded database). What the
server holds is read server-side (the Daemon's items, the group's ChannelData) or
with bare pytango, never through the proxy under test; "a second client" is
pyepics (libca), or bare pytango, in another process.
"""

from __future__ import annotations

import concurrent.futures
import threading
import uuid
from typing import Any, Literal, get_args

import pint
import pytest
from caproto.server import PVGroup, pvproperty

import ctlshell
from ctlshell import ValidationError
from ctlshell.api import session
from ctlshell.host import Daemon
from ctlshell.proxies import (
    DeviceProxy,
    Timestamp,
    connect_device,
    disconnect_device,
    get_properties,
    lock,
    set_no_wait,
    set_wait,
    unit,
    wait_until,
    wait_until_new,
    wait_while,
)

from .conftest import pyepics

Kind = Literal["daemon", "epics", "tango"]
KEYS = ["position", "offset", "speed", "counter"]


class Stage(Daemon):
    """The daemon kind: position in metres with limits, a read-only counter, a slot."""

    LOCKABLE = True
    SLOTS = ("home",)
    CATALOG = {
        "position": {"type": "numeric", "units": "m", "initial": 0.0, "limits": [-1, 1]},
        "offset": {"type": "numeric", "units": "mm", "initial": 0.0},
        "speed": {"type": "numeric", "units": "mm/s", "initial": 1.0},
        "counter": {"type": "integer", "initial": 0, "settable": False},
    }

    def home(self) -> str:
        """Drive to zero."""
        self["position"].publish(0.0)
        return "homed"


class StageGroup(PVGroup):
    """The epics kind: the same properties as caproto pvproperties."""

    position = pvproperty(value=0.0, units="m", lower_ctrl_limit=-1.0, upper_ctrl_limit=1.0)
    offset = pvproperty(value=0.0, units="mm")
    speed = pvproperty(value=1.0, units="mm/s")
    counter = pvproperty(value=0, read_only=True)


class Server:
    """The device as its server has it, and a way to publish a new counter value."""

    def __init__(self, kind: str, obj: Any) -> None:
        self.kind, self.obj = kind, obj

    def value(self, key: str) -> Any:
        if self.kind == "daemon":
            return self.obj[key].value
        if self.kind == "tango":
            return self.obj.read_attribute(key).value
        return getattr(self.obj, key).value

    def stamp(self, key: str) -> float:
        if self.kind == "daemon":
            return self.obj[key].timestamp
        if self.kind == "tango":
            return self.obj.read_attribute(key).time.totime()
        return getattr(self.obj, key).timestamp

    def publish_counter(self, n: int) -> None:
        if self.kind == "daemon":
            self.obj["counter"].publish(n)
        elif self.kind == "tango":
            self.obj.command_inout("SetCounter", n)
        else:
            session().runtime.call(self.obj.counter.write(n), 5)

    def snapshot(self) -> dict[str, Any]:
        return {key: self.value(key) for key in KEYS}


def tango_stage(db: Any) -> tuple[Any, str, Any]:
    """A CtlStage device server registered in ``db``: (server, address, bare pytango proxy)."""
    import tango

    from ctlshell.testing import TangoServer

    uid = uuid.uuid4().hex[:8]
    name = f"test/stage{uid}/1"
    server = TangoServer(f"s{uid}", {name: "CtlStage"}, database=db).start()
    address = server.address(name)
    return server, address, tango.DeviceProxy(address.removeprefix("tango://"))


@pytest.fixture(params=get_args(Kind))
def device(request: pytest.FixtureRequest, prefix: str) -> Any:
    kind = request.param
    if kind == "tango":
        server, address, bare = tango_stage(request.getfixturevalue("tango_db"))
        proxy = connect_device(address, pvs=KEYS)
        yield proxy, Server(kind, bare)
        disconnect_device(proxy)
        server.close()
        return
    if kind == "daemon":
        obj = ctlshell.host(Stage(prefix))
        proxy = connect_device(f"local://{prefix}")
    else:
        obj = ctlshell.host(StageGroup(prefix=prefix))
        proxy = connect_device(f"ca://{prefix}", pvs=KEYS)
    yield proxy, Server(kind, obj)
    disconnect_device(proxy)
    ctlshell.unhost(obj)


def test_units_are_converted_refused_or_assumed(device: Any) -> None:
    dev, server = device
    dev.position = 5 * unit.mm
    assert server.value("position") == pytest.approx(0.005)
    assert dev.position.value == pytest.approx(0.005) and dev.position.units == unit.m
    before = server.snapshot()
    with pytest.raises(pint.DimensionalityError):
        dev.position = 3 * unit.s
    assert server.snapshot() == before  # nothing was sent
    dev.position = 0.25  # a bare number takes the property's unit
    assert server.value("position") == pytest.approx(0.25)
    dev.speed = 2 * unit.m / unit.s
    assert server.value("speed") == pytest.approx(2000.0)


def test_arithmetic_keeps_units_and_the_newest_timestamp(device: Any) -> None:
    dev, server = device
    dev.position = 0.5
    dev.offset = 20  # mm, stamped after position
    a, b = dev.position, dev.offset
    assert a.timestamp.toTimestamp() == pytest.approx(server.stamp("position"))
    assert b.timestamp.toTimestamp() == pytest.approx(server.stamp("offset"))
    assert b.timestamp > a.timestamp
    total = a + b
    assert total.timestamp == b.timestamp and (b + a).timestamp == b.timestamp
    assert total.to(unit.mm).value == pytest.approx(520.0)
    assert (a * 3).timestamp == a.timestamp and (a * 3).value == pytest.approx(1.5)
    assert a.descriptor is not None and a.descriptor.key == "position"
    assert total.descriptor is None and (a * 3).descriptor is None
    with pytest.raises(pint.DimensionalityError):
        a + dev.speed


def test_set_wait_is_all_or_nothing(device: Any) -> None:
    dev, server = device
    before = server.snapshot()
    with pytest.raises(ValidationError, match="read-only"):
        set_wait(dev, position=0.1, offset=2, counter=3)
    with pytest.raises(ValidationError, match="limits"):
        set_wait(dev, offset=2, position=5)  # 5 m: outside -1..1 m
    with pytest.raises(pint.DimensionalityError):
        set_wait(dev, position=0.1, offset=2 * unit.s)
    with pytest.raises(AttributeError, match="no property or slot 'positon'.*did you mean 'position'"):
        set_wait(dev, offset=2, positon=0.1)
    assert server.snapshot() == before
    assert (dev.position.value, dev.offset.value) == (before["position"], before["offset"])
    set_wait(dev, "position", 0.1, "offset", 2 * unit.cm)
    assert (server.value("position"), server.value("offset")) == (pytest.approx(0.1), pytest.approx(20.0))
    with pytest.raises(ValidationError, match="pairs"):
        set_wait(dev, "position", 0.1, "offset")


def test_wait_until_new_returns_on_the_next_update_or_times_out(device: Any) -> None:
    dev, server = device
    future = wait_until_new(dev.counter, wait=False)
    assert not future.done()
    server.publish_counter(1)
    assert future.wait(10) is None  # as Karabo's; bounds a hang only, the verb itself has no timeout here
    assert dev.counter.value == 1
    with pytest.raises(TimeoutError):
        wait_until_new(dev.counter, timeout=1)


def test_cancel_stops_the_wait(device: Any) -> None:
    dev, server = device
    future = wait_until_new(dev.counter, dev.offset, wait=False)
    assert future.cancel() and future.cancelled()
    with pytest.raises(concurrent.futures.CancelledError):
        future.wait()
    ended = threading.Event()

    async def no_waiters() -> None:  # the waiting task is gone from the loop: nothing listens
        while dev._waiters:
            import asyncio

            await asyncio.sleep(0.01)
        ended.set()

    session().runtime.call(no_waiters(), 10)
    assert ended.is_set()
    server.publish_counter(5)  # an update after the cancel harms nobody
    assert wait_until(lambda: dev.counter == 5, timeout=10) is None and dev.counter == 5  # None, as Karabo's


def test_wait_until_and_wait_while_follow_every_change(device: Any) -> None:
    dev, server = device

    def count() -> None:
        for n in range(1, 4):
            server.publish_counter(n)

    threading.Thread(target=count).start()
    wait_until(lambda: dev.counter >= 3, timeout=10)
    assert dev.counter >= 3
    wait_while(lambda: dev.counter < 3, timeout=10)
    with pytest.raises(TimeoutError):
        wait_until(lambda: dev.counter > 100, timeout=0.5)


def test_proxy_surface(device: Any) -> None:
    dev, server = device
    assert isinstance(dev, DeviceProxy)
    assert {"position", "offset", "speed", "counter"} <= set(dir(dev))
    with pytest.raises(AttributeError, match="no property or slot 'nonsense'"):
        dev.nonsense  # noqa: B018
    before = server.snapshot()
    with pytest.raises(AttributeError):
        dev.nonsense = 1
    with pytest.raises(ValidationError, match="read-only"):
        dev.counter = 4
    assert server.snapshot() == before
    html = dev._repr_html_()
    assert "position" in html and "0.0" in html
    dev.position = 0.75
    assert "0.75" in dev._repr_html_()  # live: rendered from the newest values
    props = get_properties(dev, ["position", "counter"])
    assert props.type_of("position") == "DOUBLE" and props.type_of("counter") == ("INT64" if server.kind == "tango" else "INT32")
    assert sorted(props["position", ...]) == ["frac", "sec", "tid"]  # Karabo's timestamp attributes
    assert Timestamp.fromHashAttributes(props["position", ...]) == dev.position.timestamp
    with pytest.raises(KeyError):
        get_properties(dev, "nope")
    set_no_wait(dev, offset=7)
    wait_until(lambda: dev.offset == 7 * unit.mm, timeout=10)
    assert server.value("offset") == 7.0


def _pytango_write(address: str, key: str, value: float) -> str:
    """Write with bare pytango in another process; '' when accepted, else the error."""
    import subprocess

    from ctlshell.testing import child_command

    code = ("import sys, tango\n"
            "try:\n"
            f"    tango.DeviceProxy({address.removeprefix('tango://')!r}).write_attribute({key!r}, {value!r})\n"
            "    print('@@ok')\n"
            "except tango.DevFailed as exc:\n"
            "    print('@@' + exc.args[0].reason)\n")
    proc = subprocess.run(child_command("-c", code), capture_output=True, text=True, timeout=60)
    line = [x for x in proc.stdout.splitlines() if x.startswith("@@")]
    assert line, proc.stdout + proc.stderr
    return "" if line[-1] == "@@ok" else line[-1][2:]


def test_tango_lock_is_the_devices_own(tango_db: Any) -> None:
    server, address, bare = tango_stage(tango_db)
    try:
        dev = connect_device(address, pvs=KEYS)
        with lock(dev, timeout=5):
            assert "Locked" in _pytango_write(address, "offset", 3.0)  # API_DeviceLocked
            assert bare.read_attribute("offset").value == 0.0
            dev.offset = 1.0  # the holder writes
            assert bare.read_attribute("offset").value == 1.0
        assert _pytango_write(address, "offset", 3.0) == ""
        assert bare.read_attribute("offset").value == 3.0
        assert dev.home() == "homed"
        disconnect_device(dev)
    finally:
        server.close()


def test_lock_refuses_a_second_client_until_released(prefix: str) -> None:
    stage = ctlshell.host(Stage(prefix))
    try:
        dev = connect_device(f"local://{prefix}")
        with lock(dev, timeout=5):
            assert dev.lockedBy.value  # our client id
            refused = pyepics("put", prefix + "offset", "3.0", "wait")
            assert not refused["ok"] and stage["offset"].value == 0.0
            dev.offset = 1.0  # the holder writes
            with lock(dev, timeout=5):  # re-entrant
                pass
            assert dev.lockedBy.value
        assert dev.lockedBy.value == ""
        assert pyepics("put", prefix + "offset", "3.0", "wait")["ok"]
        assert stage["offset"].value == 3.0
        disconnect_device(dev)
    finally:
        ctlshell.unhost(stage)


def test_lock_over_channel_access_tells_clients_apart(prefix: str) -> None:
    """The holder and pyepics are one user on one host: the CA connection tells them apart."""
    stage = ctlshell.host(Stage(prefix))
    try:
        dev = connect_device(f"ca://{prefix}", pvs=[*KEYS, "lockedBy"])
        held = lock(dev, timeout=5)
        try:
            assert not pyepics("put", prefix + "offset", "3.0", "wait")["ok"]
            assert not pyepics("put", prefix + "lockedBy", '"thief"', "wait")["ok"]
            dev.offset = 2.0
            assert stage["offset"].value == 2.0
        finally:
            held.release()
        assert pyepics("put", prefix + "offset", "3.0", "wait")["ok"]
        disconnect_device(dev)
    finally:
        ctlshell.unhost(stage)


def test_one_proxy_per_device_slots_and_karabo_spellings(prefix: str) -> None:
    from ctlshell import karabo

    stage = ctlshell.host(Stage(prefix))
    try:
        dev = karabo.connectDevice(f"local://{prefix}")
        assert karabo.getDevice(f"local://{prefix}") is dev and connect_device(stage) is dev
        dev.position = 0.5
        assert dev.home() == "homed" and stage["position"].value == 0.0
        assert karabo.execute(dev, "home", wait=False).wait(10) == "homed"
        with pytest.raises(AttributeError, match="slot"):
            dev.home = 1
        karabo.setWait(dev, offset=4)
        karabo.waitUntil(lambda: dev.offset == 4 * unit.mm, timeout=5)
        assert karabo.getProperties(dev, "offset")["offset"] == 4.0
        karabo.disconnectDevice(dev)
        assert connect_device(stage) is not dev  # a new proxy after a disconnect
    finally:
        ctlshell.unhost(stage)


def test_bad_addresses_are_refused_clearly(prefix: str) -> None:
    with pytest.raises(ValidationError, match="list of PV names"):
        connect_device(f"ca://{prefix}")
    with pytest.raises(KeyError, match="nothing hosted"):
        connect_device(f"local://{prefix}")
    with pytest.raises(ctlshell.CtlshellError, match="sys/nobody/1"):  # not in this run's database
        connect_device("tango://sys/nobody/1")
    with pytest.raises(ValueError, match="malformed Tango address"):  # an AddressError
        connect_device("tango://not a device")


def test_wait_until_new_works_on_unset_values_across_a_restart(prefix: str) -> None:
    """A device that goes away leaves its properties unset; a wait on one returns when
    the device is back."""
    stage = ctlshell.host(Stage(prefix))
    dev = connect_device(f"local://{prefix}")
    ctlshell.unhost(stage)
    wait_until(lambda: not dev.position.is_set, timeout=10)
    assert dev.position == None  # noqa: E711 (Karabo's unset value)
    future = wait_until_new(dev.position, wait=False)
    again = ctlshell.host(Stage(prefix))
    try:
        assert future.wait(10) is None
        assert dev.position.is_set and dev.position.value == 0.0
    finally:
        disconnect_device(dev)
        ctlshell.unhost(again)


def test_lock_of_a_hosted_device_with_its_own_thread(prefix: str) -> None:
    from ctlshell.examples.motor import Motor

    class LockableMotor(Motor):
        LOCKABLE = True

    motor = ctlshell.host(LockableMotor(prefix))
    try:
        dev = connect_device(motor)
        assert "VAL" in dir(dev) and dev.VAL.units == unit.mm
        with lock(dev, timeout=5):
            got = pyepics("put", prefix + "VELO", "3.0", "wait")
            assert not got["ok"] and dev.VELO.value == 2.0
        assert pyepics("put", prefix + "VELO", "3.0", "wait")["ok"]
        wait_until(lambda: dev.VELO == 3.0 * unit.mm / unit.s, timeout=10)
        disconnect_device(dev)
    finally:
        ctlshell.unhost(motor)
    assert prefix + "lockedBy" not in ctlshell.hosted()


def test_a_hosted_caproto_group_is_a_device_of_its_pvs(prefix: str) -> None:
    group = ctlshell.host(StageGroup(prefix=prefix))
    try:
        dev = connect_device(group)
        assert connect_device(f"local://{prefix}") is dev  # found among the hosted objects
        assert connect_device(f"ca://{prefix}", pvs=KEYS) is dev  # the same device over CA
        assert set(KEYS) <= set(dir(dev))
        dev.offset = 1 * unit.cm
        assert group.offset.value == 10.0
        disconnect_device(dev)
    finally:
        ctlshell.unhost(group)


def test_a_lock_whose_client_disconnects_is_released(prefix: str) -> None:
    """pyepics claims the lock and exits: its connection closes, the lock goes."""
    stage = ctlshell.host(Stage(prefix))
    try:
        dev = connect_device(stage)
        assert pyepics("put", prefix + "lockedBy", '"other@host"', "wait")["ok"]
        assert [e.new for e in ctlshell.journal(prefix + "lockedBy")] == ["other@host"]  # it held the lock
        wait_until(lambda: dev.lockedBy == "", timeout=10)  # released when its connection closed
        with lock(dev, timeout=5):
            dev.offset = 1.0
        disconnect_device(dev)
    finally:
        ctlshell.unhost(stage)


def test_lock_held_by_another_waits_times_out_and_refuses_writes_locally(prefix: str) -> None:
    from ctlshell.core import PutRefusedError

    stage = ctlshell.host(Stage(prefix))
    store = session().store
    try:
        dev = connect_device(stage)
        store.get(prefix + "lockedBy").write("someone@elsewhere")  # as another holder would
        wait_until(lambda: dev.lockedBy == "someone@elsewhere", timeout=10)
        with pytest.raises(TimeoutError):
            lock(dev, timeout=0.5)
        assert dev.lockedBy == "someone@elsewhere"  # the timed-out lock() took nothing
        with pytest.raises(PutRefusedError, match="locked by 'someone@elsewhere'"):
            set_wait(dev, offset=5)
        assert stage["offset"].value == 0.0
        pending = lock(dev, wait=False)  # waits for the holder to let go
        assert not pending.done()
        store.clear_lock(prefix)  # the privileged clear
        held = pending.wait(10)
        assert dev.lockedBy.value and dev.lockedBy != "someone@elsewhere"
        held.release()
        assert dev.lockedBy == ""
        disconnect_device(dev)
    finally:
        ctlshell.unhost(stage)
