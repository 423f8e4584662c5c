"""Issue 17, acceptance 2: a script written for Karabo's ikarabo runs unchanged against
a hosted daemon, an EPICS prefix (served over Channel Access, with a motor record's
DMOV/MOVN) and a Tango device (a CtlStage in a device server subprocess).

Only ``DEVICE`` changes. An EPICS prefix has no schema server, so its PV list is given
once per session (``connect_device(address, pvs=...)``, as an ikarabo start-up file
would); the script's own ``connectDevice(DEVICE)`` then finds that proxy by its id.
What the device holds afterwards is read server-side, never through the proxy.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from caproto.server import pvproperty

import ctlshell
from ctlshell.api import session
from ctlshell.proxies import connect_device, disconnect_device

from .test_proxies import Stage, StageGroup, tango_stage

#: The ikarabo-style script, as a Karabo user would write it (DEVICE is its only input).
SCRIPT = '''
from ctlshell.karabo import *

d = connectDevice(DEVICE)
with getDevice(DEVICE) as same:
    assert same is d
waitUntil(lambda: d.state == State.ON, timeout=10)
assert isAlive(d) and DEVICE in getDevices() and DEVICE in findDevices(DEVICE[-6:].lower())

changes = Queue(d.offset)
setWait(d, offset=2 * unit.mm)
setWait(d, "offset", 3)
seen = [changes.get(timeout=10) for _ in range(2)]
assert [v.value for v in seen] == [2.0, 3.0] and all(isinstance(v.timestamp, Timestamp) for v in seen)

h = getProperties(d, ["offset", "position"])
assert isinstance(h, Hash) and h["offset"] == 3.0 and sorted(h["offset", ...]) == ["frac", "sec", "tid"]

later = waitUntilNew(d.position, wait=False)
d.position = 0.25
assert later.wait(10) is None and d.position == 0.25 * unit.m

naps = [sleep(0.05, n, wait=False) for n in range(3)]
assert gather(*naps, timeout=10) == [0, 1, 2]
done, pending, errors = firstCompleted(quick=sleep(0.01, "q", wait=False), slow=sleep(30, wait=False))
assert done == {"quick": "q"} and list(pending) == ["slow"] and errors == {}

with lock(d, timeout=10):
    d.offset = 1 * unit.mm
try:
    d.counter = 3
except KaraboError as error:
    refused = str(error)
waitWhile(lambda: d.state == State.MOVING, timeout=10)
disconnectDevice(d)
RESULT = {"offset": float(h["offset"]), "refused": refused, "state": str(d.state)}
'''


class MotorStageGroup(StageGroup):
    """The EPICS prefix: the stage's PVs plus a motor record's done-moving and moving flags."""

    DMOV = pvproperty(value=1)
    MOVN = pvproperty(value=0)


def _run(device: str) -> dict[str, Any]:
    scope: dict[str, Any] = {"DEVICE": device}
    exec(compile(SCRIPT, "ikarabo_script.py", "exec"), scope)  # noqa: S102 (the test's own script)
    return scope["RESULT"]  # type: ignore[no-any-return]


def _check(result: dict[str, Any]) -> None:
    assert result["offset"] == 3.0
    assert "read-only" in result["refused"]
    assert result["state"] == "State.ON"


def test_script_runs_against_a_hosted_daemon(prefix: str) -> None:
    class StatefulStage(Stage):
        CATALOG = {**Stage.CATALOG, "state": {"type": "enumerated", "enumerators": ["ON", "MOVING"], "initial": 0}}

    stage = ctlshell.host(StatefulStage(prefix))
    try:
        _check(_run(f"local://{prefix}"))
        assert stage["offset"].value == 1.0 and stage["position"].value == 0.25  # the daemon's own items
    finally:
        ctlshell.unhost(stage)


def test_script_runs_against_an_epics_prefix(prefix: str) -> None:
    """Served over Channel Access by a lockable daemon with a motor record's flags."""

    class MotorStage(Stage):
        CATALOG = {**Stage.CATALOG, "DMOV": {"type": "integer", "initial": 1},
                   "MOVN": {"type": "integer", "initial": 0}}

    stage = ctlshell.host(MotorStage(prefix))
    address = f"ca://{prefix}"
    try:
        connect_device(address, pvs=["position", "offset", "speed", "counter", "lockedBy", "DMOV", "MOVN"])
        _check(_run(address))
        assert stage["offset"].value == 1.0 and stage["position"].value == 0.25  # the daemon's own items
    finally:
        ctlshell.unhost(stage)


def test_motor_flags_make_the_state_of_an_epics_prefix(prefix: str) -> None:
    from ctlshell.karabo import State, waitUntil

    group = ctlshell.host(MotorStageGroup(prefix=prefix))
    dev = connect_device(f"ca://{prefix}", pvs=["position", "DMOV", "MOVN"])
    try:
        assert dev.state == State.ON
        session().runtime.call(group.MOVN.write(1), 5)
        waitUntil(lambda: dev.state == State.MOVING, timeout=10)
        assert dev.state.enum.isDerivedFrom(State.CHANGING)
        session().runtime.call(group.MOVN.write(0), 5)
        session().runtime.call(group.DMOV.write(0), 5)  # not done yet: still MOVING
        waitUntil(lambda: dev.DMOV == 0, timeout=10)
        assert dev.state == State.MOVING
        session().runtime.call(group.DMOV.write(1), 5)
        waitUntil(lambda: dev.state == State.ON, timeout=10)
    finally:
        disconnect_device(dev)
        ctlshell.unhost(group)


def test_script_runs_against_a_tango_device(tango_db: Any) -> None:
    server, address, bare = tango_stage(tango_db)
    try:
        _check(_run(address))
        assert bare.read_attribute("offset").value == 1.0 and bare.read_attribute("position").value == 0.25
    finally:
        server.close()


def test_an_epics_prefix_without_its_pv_list_is_refused_clearly() -> None:
    from ctlshell.karabo import connectDevice

    with pytest.raises(ctlshell.ValidationError, match="needs a list of PV names"):
        connectDevice(f"ca://U{uuid.uuid4().hex[:8]}:")


