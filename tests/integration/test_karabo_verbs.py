"""Issue 17: Karabo's verb options and the verbs added for Karabo users, on a hosted
daemon (``local://``) -- what the daemon holds is read from its own items.

Bad input raises a clear error and changes nothing; every option does what Karabo's does
or what ADR 0008 says instead.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

import ctlshell
from ctlshell import ValidationError
from ctlshell.host import Daemon
from ctlshell.karabo import (
    BoolValue,
    Hash,
    KaraboError,
    Queue,
    State,
    Timestamp,
    allCompleted,
    call,
    callNoWait,
    compareDeviceConfiguration,
    connectDevice,
    disconnectDevice,
    firstException,
    gather,
    getClassSchema,
    getClasses,
    getConfiguration,
    getDescriptors,
    getDevice,
    getDevices,
    getInstanceInfo,
    getProperties,
    getSchema,
    getServers,
    getTopology,
    instantiate,
    isAlive,
    lock,
    setNoWait,
    setWait,
    shutdown,
    sleep,
    synchronous,
    unit,
    updateDevice,
    waitUntil,
)


class Axis(Daemon):
    """Nested keys (``motor.velocity``), a state item, a train id and a slot with arguments."""

    LOCKABLE = True
    SLOTS = ("move_by", "home")
    CATALOG = {
        "position": {"type": "numeric", "units": "mm", "initial": 0.0},
        "motor.velocity": {"type": "numeric", "units": "mm/s", "initial": 1.0},
        "motor.power.on": {"type": "boolean", "initial": 1},
        "label": {"type": "string", "initial": "axis"},
        "state": {"type": "string", "initial": "ON"},
        "trainId": {"type": "integer", "initial": 7, "settable": False},
    }

    def move_by(self, step: float, times: int = 1) -> float:
        """Move by step, times times."""
        self["position"].publish(self["position"].value + step * times)
        return self["position"].value

    def home(self) -> str:
        """Drive to zero."""
        self["position"].publish(0.0)
        return "homed"


@pytest.fixture
def axis(prefix: str) -> Any:
    daemon = ctlshell.host(Axis(prefix))
    dev = connectDevice(f"local://{prefix}")
    yield daemon, dev
    disconnectDevice(dev)
    ctlshell.unhost(daemon)


def test_values_are_karabo_kinds(axis: Any) -> None:
    daemon, dev = axis
    assert isinstance(dev.label, str) and dev.label == "axis" and dev.label.upper().timestamp == dev.label.timestamp
    assert dev.state == State.ON and str(dev.state) == "State.ON"  # a hosted state item, as a State
    assert isinstance(dev.motor.power.on, BoolValue) and dev.motor.power.on == True  # noqa: E712
    dev.motor.power.on = False  # a boolean item takes a bool
    assert daemon["motor.power.on"].value in (0, False) and not dev.motor.power.on
    assert isinstance(dev.position.timestamp, Timestamp) and int(dev.position.timestamp.tid) == 7
    daemon["state"].publish("MOVING")
    waitUntil(lambda: dev.state == State.MOVING, timeout=10)
    assert dev.state.enum.isDerivedFrom(State.CHANGING)


def test_nested_nodes_and_dotted_keys(axis: Any) -> None:
    daemon, dev = axis
    assert dev.motor.velocity == 1.0 * unit.mm / unit.s and "velocity" in dir(dev.motor)
    assert {"motor", "state", "position"} <= set(dir(dev))  # Tab completion reaches nodes
    dev.motor.velocity = 2.0
    assert daemon["motor.velocity"].value == 2.0
    setWait(dev, "motor.velocity", 3.0)
    assert daemon["motor.velocity"].value == 3.0
    setNoWait(dev, "motor.velocity", 4.0)
    waitUntil(lambda: dev.motor.velocity == 4.0 * unit.mm / unit.s, timeout=10)
    config = getConfiguration(dev)
    assert config["motor"]["velocity"] == 4.0 and "motor.power.on" in config.paths()
    assert sorted(config["motor.velocity", ...]) == ["frac", "sec", "tid"]
    with pytest.raises(AttributeError, match="no property or slot"):
        dev.motor.nonsense


def test_call_passes_arguments_and_checks_them_first(axis: Any) -> None:
    daemon, dev = axis
    assert call(dev, "move_by", 1.5) == 1.5 and daemon["position"].value == 1.5
    assert callNoWait(dev, "move_by", 0.5, 2).wait(10) == 2.5
    with pytest.raises(ValidationError, match="move_by"):
        call(dev, "move_by", 1, 2, 3)  # too many: nothing called
    with pytest.raises(AttributeError, match="no property or slot"):
        call(dev, "fly")
    assert daemon["position"].value == 2.5


def test_timeout_minus_one_is_no_limit_and_bad_timeouts_are_refused(axis: Any) -> None:
    _, dev = axis
    assert sleep(0.01, "done", timeout=-1) == "done"
    waitUntil(lambda: dev.position == 0 * unit.mm, timeout=-1)
    for bad in (0, -2, "soon"):
        with pytest.raises((ValidationError, ValueError)):
            sleep(0.01, timeout=bad)


def test_future_result_before_completion_raises(axis: Any) -> None:
    future = sleep(5, wait=False)
    with pytest.raises(asyncio.InvalidStateError):
        future.result()
    with pytest.raises(asyncio.InvalidStateError):
        future.exception()
    future.cancel()
    done = sleep(0.01, 42, wait=False)
    assert done.wait(10) == 42 and done.result() == 42 and done.exception() is None


def test_proxy_options_as_karabo(axis: Any, prefix: str) -> None:
    _, dev = axis
    with getDevice(f"local://{prefix}", sync=True, initialize=False) as same:
        assert same is dev
    assert connectDevice(f"local://{prefix}", autodisconnect=10) is dev
    assert connectDevice(dev) is dev
    with pytest.raises(RuntimeError, match="autodisconnect"):
        connectDevice(dev, autodisconnect=5)
    with pytest.raises(ValidationError, match="autodisconnect"):
        connectDevice(f"local://{prefix}", autodisconnect=-1)
    with pytest.raises(ValidationError, match="initialize"):
        getDevice(f"local://{prefix}", initialize="yes")
    assert getProperties(dev, "position", timeout=5)["position"] == 0.0
    assert isinstance(getProperties(dev, ["label"], wait=False).wait(10), Hash)
    with pytest.raises(KaraboError):
        getProperties(dev, ["position", 3])


def test_lock_without_waiting_for_release(axis: Any) -> None:
    daemon, dev = axis
    with lock(dev, wait_for_release=False, timeout=10):
        assert dev.lockedBy != ""
    waitUntil(lambda: dev.lockedBy == "", timeout=10)
    with pytest.raises(ValidationError, match="wait_for_release"):
        lock(dev, wait_for_release="no")


def test_queue_keeps_every_change_in_order(axis: Any) -> None:
    daemon, dev = axis
    queue = Queue(dev.position)
    for n in range(1, 21):
        daemon["position"].publish(float(n))
    got = [queue.get(timeout=10).value for _ in range(20)]
    assert got == [float(n) for n in range(1, 21)]
    with pytest.raises(TimeoutError):
        queue.get(timeout=0.2)
    with pytest.raises(ValidationError, match="not read from a device proxy"):
        Queue(dev.position * 2)


def test_gather_and_the_completed_family(axis: Any) -> None:
    assert gather(sleep(0.02, 1, wait=False), sleep(0.01, 2, wait=False), timeout=10) == [1, 2]
    with pytest.raises(ValidationError, match="futures"):
        gather(42)
    slow = sleep(30, wait=False)
    with pytest.raises(TimeoutError):
        gather(slow, timeout=0.2)
    slow.cancel()

    async def boom() -> None:
        raise ValueError("boom")

    from ctlshell.karabo import background

    with pytest.raises(ValueError, match="boom"):
        gather(background(boom), sleep(0.01, wait=False))
    assert isinstance(gather(background(boom), return_exceptions=True)[0], ValueError)
    done, pending, errors = allCompleted(ok=sleep(0.01, "ok", wait=False), bad=background(boom), timeout=10)
    assert done == {"ok": "ok"} and pending == {} and type(errors["bad"]) is ValueError
    done, pending, errors = firstException(sleep(30, wait=False), background(boom), timeout=10)
    assert done == {} and list(pending) == [0] and pending[0].cancelled() and 1 in errors


def test_synchronous_runs_a_plain_function_as_is() -> None:
    @synchronous
    def twice(x: int) -> int:
        return 2 * x

    assert twice(4) == 8
    with pytest.raises(ValidationError, match="plain functions"):
        synchronous(asyncio.sleep)


def test_topology_schema_and_comparison(axis: Any, prefix: str) -> None:
    daemon, dev = axis
    address = f"local://{prefix}"
    assert address in getDevices() and getDevices(matchPattern=prefix.lower()) == [address]
    [server] = getServers()
    assert "Axis" in getClasses(server) and address in getDevices(serverId=server)
    assert getInstanceInfo(dev)["classId"] == "Axis" and getInstanceInfo(address)["serverId"] == server
    assert [k for k, _, _ in getTopology()["device"].iterall()].count(address) == 1
    with pytest.raises(KeyError):
        getInstanceInfo("local://NOT:THERE:")
    assert isAlive(dev)
    schema = getSchema(dev)
    assert schema.hash["position", ...] == {} and schema.hash["position"]["unitSymbol"] == "mm"
    assert [d.key for d in getDescriptors(dev)][:2] == ["position", "motor.velocity"]
    other = ctlshell.host(Axis(prefix + "B:"))
    twin = connectDevice(f"local://{prefix}B:")
    try:
        setWait(twin, "motor.velocity", 5.0)
        diff = compareDeviceConfiguration(dev, twin)
        assert diff["motor.velocity"] == [1.0, 5.0] and "position" not in diff
    finally:
        disconnectDevice(twin)
        ctlshell.unhost(other)
    started = time.monotonic()
    assert updateDevice(dev) is dev and time.monotonic() - started < 10
    disconnectDevice(dev)
    disconnectDevice(dev)  # again: harmless, as Karabo's
    assert not isAlive(dev)


def test_instantiate_and_shutdown_host_and_unhost(axis: Any, prefix: str) -> None:
    _, dev = axis
    [server] = getServers()
    new = f"{prefix}N:"
    with pytest.raises(ValidationError, match="read-only"):  # trainId: nothing stays hosted
        instantiate(server, "Axis", new, Hash("position", 2.0), trainId=3)
    assert f"local://{new}" not in getDevices()
    assert instantiate(server, "Axis", new, Hash("position", 2.0), label="second") == f"local://{new}"
    second = connectDevice(f"local://{new}")
    assert second.position == 2.0 * unit.mm and second.label == "second"
    with pytest.raises(ValidationError, match="hosted here already"):
        instantiate(server, "Axis", new)
    with pytest.raises(KaraboError, match="no class"):
        instantiate(server, "Nope", f"{prefix}X:")
    with pytest.raises(ValidationError, match="only this process"):
        instantiate("elsewhere", "Axis", f"{prefix}Y:")
    assert getClassSchema(server, "Axis").properties["position"].metadata.units == "mm"
    with pytest.raises(KaraboError, match="no hosted instance"):
        getClassSchema(server, "Nope")
    assert shutdown(second) is True
    assert f"local://{new}" not in getDevices() and not isAlive(second)
    with pytest.raises(ValidationError, match="not hosted"):
        shutdown("ca://NOT:HOSTED:")


@pytest.fixture(scope="module")
def p4p_server() -> Any:
    from ._pva import P4pServer, next_pool_port

    prefix = f"P{uuid.uuid4().hex[:6]}:"
    proc = P4pServer(prefix, next_pool_port())
    proc.start()
    proc.prefix = prefix
    yield proc
    proc.close()


def test_a_pva_structure_is_a_node(p4p_server: Any) -> None:
    """A structure that is no normative type (``{x, a: {b, c}}``, served by p4p in another
    process) is a node: ``dev.STRUCT.a.b``, stamped as the structure."""
    from ctlshell.karabo import NodeValue

    dev = connectDevice(f"pva://{p4p_server.prefix}", pvs=["STRUCT", "TEMP"])
    try:
        node = dev.STRUCT
        assert isinstance(node, NodeValue) and isinstance(node, Hash)
        assert node.a.b == 7 and node.a.c == "seven" and node.x == 1.5
        assert node.a.b.timestamp == node.timestamp and node.paths() == ["x", "a.b", "a.c", "a"]
        with pytest.raises(AttributeError, match="no field 'nope'"):
            node.nope
        props = getProperties(dev, "STRUCT")
        assert props["STRUCT.a.c"] == "seven" and sorted(props["STRUCT", ...]) == ["frac", "sec", "tid"]
        from ctlshell.karabo import getHistory, minutesAgo

        with pytest.raises(ValidationError, match="no history source"):
            getHistory(dev.TEMP, minutesAgo(1))
        p4p_server.send(f'post {p4p_server.prefix}STRUCT {{"x": 2.5, "a": {{"b": 8, "c": "eight"}}}}')
        waitUntil(lambda: dev.STRUCT.a.b == 8, timeout=10)
    finally:
        disconnectDevice(dev)


def test_history_of_a_hosted_device_comes_from_the_journal(axis: Any) -> None:
    from ctlshell.karabo import getHistory, minutesAgo

    _, dev = axis
    before = Timestamp()
    for value in (1.0, 2.0, 3.0):
        dev.position = value
    rows = getHistory(dev.position, before)
    assert [v for _, _, v in rows] == [1.0, 2.0, 3.0] and [last for _, last, _ in rows] == [False, False, True]
    assert all(before.toTimestamp() <= t <= Timestamp().toTimestamp() for t, _, _ in rows)
    assert [v for _, _, v in getHistory(dev.position, minutesAgo(5), maxNumData=2)] == [1.0, 3.0]
    assert getHistory(dev.position, "2001-01-01", "2001-01-02") == []
    with pytest.raises(ValidationError, match="maxNumData"):
        getHistory(dev.position, before, maxNumData=0)
    with pytest.raises(ValidationError, match="after end"):
        getHistory(dev.position, Timestamp(), before)
    with pytest.raises(ValidationError, match="date"):
        getHistory(dev.position, "not a date")
    with pytest.raises(ValidationError, match="not read from a device proxy"):
        getHistory(dev.position * 2, before)


def test_a_queue_nobody_reads_stays_bounded_and_keeps_the_newest(axis: Any) -> None:
    daemon, dev = axis
    queue = Queue(dev.position, maxsize=5)
    for n in range(1, 13):
        daemon["position"].publish(float(n))
    waitUntil(lambda: queue.dropped == 7, timeout=10)
    assert queue.qsize() == 5
    assert [queue.get(timeout=10).value for _ in range(5)] == [8.0, 9.0, 10.0, 11.0, 12.0]
    assert "7 dropped" in repr(queue)
    with pytest.raises(ValidationError, match="maxsize"):
        Queue(dev.position, maxsize=0)
