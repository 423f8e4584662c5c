"""Unit tests for ctlshell.core._access (Client, WriteRule) and SoftPV.client_write."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import numpy as np
import pytest

from ctlshell.core import (
    HANDLED,
    Client,
    Metadata,
    NotFoundError,
    PutRefusedError,
    PVStore,
    Reading,
    SoftPV,
    ValidationError,
    WriteRule,
)

ALICE = Client("ca", "ws1.lab", "alice")


# -- Client --------------------------------------------------------------------------
def test_client_defaults_and_text() -> None:
    c = Client()
    assert (c.protocol, c.host, c.user) == ("python", "", "")
    assert str(c) == "?@? (python)"
    assert str(ALICE) == "alice@ws1.lab (ca)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ALICE.user = "eve"  # type: ignore[misc]


# -- WriteRule -----------------------------------------------------------------------
def test_default_rule_is_open() -> None:
    rule = WriteRule()
    assert rule.open
    assert (rule.hosts, rule.users) == (None, None)
    assert rule.allows(Client("ca", "", ""))
    assert rule.allows(ALICE)
    rule.check(ALICE, "BL:X")  # does not raise


@pytest.mark.parametrize(("hosts", "expected"), [
    ("ws1, ws2", ("ws1", "ws2")),
    ("ws1 ws2", ("ws1", "ws2")),
    ("ws1,ws2 ,  ws3", ("ws1", "ws2", "ws3")),
    ("  ws1  ", ("ws1",)),
    (["ws1", " ws2 ", ""], ("ws1", "ws2")),
    (("127.0.0.1",), ("127.0.0.1",)),
])
def test_pattern_lists(hosts: Any, expected: tuple[str, ...]) -> None:
    rule = WriteRule(hosts=hosts, users=hosts)
    assert rule.hosts == expected and rule.users == expected
    assert not rule.open


@pytest.mark.parametrize("empty", ["", "  ", ",", " , ,", [], (), ["", " "]])
@pytest.mark.parametrize("field", ["hosts", "users"])
def test_empty_pattern_list_is_refused(field: str, empty: Any) -> None:
    with pytest.raises(ValidationError, match=f"{field} must name at least one"):
        WriteRule(**{field: empty})


def test_host_patterns() -> None:
    rule = WriteRule(hosts="beamline-ws* 127.0.0.1")
    assert rule.allows(Client("ca", "beamline-ws3", "anyone"))
    assert rule.allows(Client("pva", "127.0.0.1", ""))
    assert not rule.allows(Client("ca", "office-pc", "alice"))
    assert not rule.allows(Client("ca", "127.0.0.10", "alice"))
    assert not rule.allows(Client("ca", "", "alice"))


def test_user_patterns_and_both_must_match() -> None:
    rule = WriteRule(hosts=["ws?"], users=["operator", "op-*"])
    assert rule.allows(Client("ca", "ws1", "operator"))
    assert rule.allows(Client("ca", "ws2", "op-night"))
    assert not rule.allows(Client("ca", "ws1", "guest"))  # right host, wrong user
    assert not rule.allows(Client("ca", "ws12", "operator"))  # right user, wrong host
    assert not rule.allows(Client("ca", "ws1", "Operator"))  # case matters


def test_python_clients_are_always_allowed() -> None:
    rule = WriteRule(hosts="nowhere", users="nobody")
    assert rule.allows(Client())
    assert rule.allows(Client("python", "elsewhere", "eve"))
    rule.check(Client(), "BL:X")


def test_check_names_client_and_rule() -> None:
    rule = WriteRule(hosts="ws1, ws2", users="operator")
    with pytest.raises(PutRefusedError) as err:
        rule.check(Client("ca", "laptop", "eve"), "BL:MOTOR")
    text = str(err.value)
    assert text.startswith("BL:MOTOR: writes from eve@laptop (ca) are not allowed")
    assert "allowed hosts: ws1, ws2" in text and "users: operator" in text
    with pytest.raises(PutRefusedError, match="allowed hosts: any; users: operator"):
        WriteRule(users="operator").check(Client("ca", "x", "y"), "BL:X")
    assert isinstance(err.value, RuntimeError)


# -- SoftPV.client_write -------------------------------------------------------------
class Hooks:
    def __init__(self) -> None:
        self.calls: list[tuple[SoftPV, Client, Reading, Reading]] = []

    def __call__(self, pv: SoftPV, client: Client, old: Reading, new: Reading) -> None:
        self.calls.append((pv, client, old, new))


def hosted(value: object = 1.0, rule: WriteRule | None = None, **meta: object) -> tuple[SoftPV, PVStore, Hooks]:
    store = PVStore()
    if rule is not None:
        store.write_rule = rule
    pv = store.add(SoftPV("BL:X", value, Metadata(**meta)))  # type: ignore[arg-type]
    hooks = Hooks()
    store.add_write_hook(hooks)
    return pv, store, hooks


def write(pv: SoftPV, value: object, client: Client = ALICE, origin: object = None) -> Reading | None:
    return asyncio.run(pv.client_write(value, client, origin=origin))


def unchanged(pv: SoftPV, before: Reading, hooks: Hooks) -> None:
    assert pv.read() is before  # same value, same timestamp
    assert hooks.calls == []


def test_accepted_write_is_stored_and_reported() -> None:
    pv, _, hooks = hosted(1.0, control_limits=(0.0, 10.0))
    old = pv.read()
    seen: list[tuple[Reading, object]] = []
    pv.add_listener(lambda r, o: seen.append((r, o)))
    origin = object()
    out = write(pv, "2.5", origin=origin)
    assert out is not None and out is pv.read()
    assert out.value == 2.5 and out.timestamp >= old.timestamp
    assert seen == [(out, origin)]
    assert hooks.calls == [(pv, ALICE, old, out)]


def test_read_only_is_refused() -> None:
    pv, _, hooks = hosted(1.0, access="r")
    before = pv.read()
    with pytest.raises((ValidationError, PutRefusedError), match="BL:X is read-only"):
        write(pv, 2.0)
    with pytest.raises((ValidationError, PutRefusedError), match="read-only"):
        write(pv, 2.0, Client())  # python clients too: the PV's own flag applies to every client
    unchanged(pv, before, hooks)


def test_rule_refuses_and_nothing_changes() -> None:
    called: list[object] = []

    async def handler(value: Any, client: Client) -> Any:
        called.append(value)

    pv, _, hooks = hosted(1.0, rule=WriteRule(hosts="control-room*"))
    pv.set_write_handler(handler)
    before = pv.read()
    with pytest.raises(PutRefusedError, match=r"BL:X: writes from alice@ws1.lab \(ca\) are not allowed"):
        write(pv, 2.0)
    unchanged(pv, before, hooks)
    assert called == []
    out = write(pv, 3.0, Client("ca", "control-room-2", "bob"))
    assert out is not None and out.value == 3.0
    assert called == [3.0]


def test_rule_changed_on_the_store_applies_at_once() -> None:
    pv, store, hooks = hosted(1.0)
    write(pv, 2.0)
    store.write_rule = WriteRule(users="bob")
    before = pv.read()
    with pytest.raises(PutRefusedError):
        write(pv, 3.0)
    assert pv.read() is before and len(hooks.calls) == 1


def test_pv_outside_a_store_has_no_rule_and_no_hooks() -> None:
    pv = SoftPV("LONE", 1, Metadata(dtype="long"))
    out = write(pv, 5, Client("ca", "anywhere", "anyone"))
    assert out is not None and pv.read().value == 5


@pytest.mark.parametrize(("meta", "value", "message"), [
    ({"control_limits": (0.0, 10.0)}, 11.0, "outside the control limits"),
    ({"control_limits": (0.0, 10.0)}, float("nan"), "NaN is outside"),
    ({}, "abc", "not a number"),
    ({"dtype": "long"}, 1.5, "not a whole number"),
    ({"dtype": "enum", "choices": ("Off", "On")}, "Maybe", "not one of"),
    ({"dtype": "enum", "choices": ("Off", "On")}, 2, "not one of"),
    ({"dtype": "string"}, 5, "expected a string"),
    ({"count": 3}, [1, 2, 3, 4], "do not fit"),
])
def test_wrong_type_or_limits_refused_and_nothing_changes(meta: dict, value: object, message: str) -> None:
    called: list[object] = []

    async def handler(v: Any, client: Client) -> Any:
        called.append(v)

    initial = {"enum": 0, "string": "s", "long": 1}.get(meta.get("dtype", ""), np.zeros(3) if "count" in meta else 1.0)
    pv, _, hooks = hosted(initial, **meta)
    pv.set_write_handler(handler)
    before = pv.read()
    with pytest.raises(ValidationError, match=message):
        write(pv, value)
    unchanged(pv, before, hooks)
    assert called == []


def test_handler_gets_the_checked_value_and_none_stores_it() -> None:
    got: list[tuple[Any, Client]] = []

    async def handler(value: Any, client: Client) -> None:
        got.append((value, client))

    pv, _, hooks = hosted(0, dtype="enum", choices=("Off", "On"))
    pv.set_write_handler(handler)
    assert pv.has_write_handler
    old = pv.read()
    out = write(pv, "On")
    assert got == [(1, ALICE)]  # the enum index, not the label
    assert out is not None and out.value == 1 and pv.read() is out
    assert hooks.calls == [(pv, ALICE, old, out)]


def test_handler_returning_another_value_stores_that() -> None:
    async def handler(value: Any, client: Client) -> Any:
        return value * 2

    pv, _, hooks = hosted(1.0, control_limits=(0.0, 10.0))
    pv.set_write_handler(handler)
    old = pv.read()
    out = write(pv, 3.0)
    assert out is not None and out.value == 6.0 and pv.read().value == 6.0
    assert hooks.calls == [(pv, ALICE, old, out)]


def test_handler_returning_an_invalid_value_changes_nothing() -> None:
    async def handler(value: Any, client: Client) -> Any:
        return value * 100  # outside the limits

    pv, _, hooks = hosted(1.0, control_limits=(0.0, 10.0))
    pv.set_write_handler(handler)
    before = pv.read()
    with pytest.raises(ValidationError, match="outside the control limits"):
        write(pv, 3.0)
    unchanged(pv, before, hooks)


def test_handler_returning_handled_stores_nothing_itself() -> None:
    async def handler(value: Any, client: Client) -> Any:
        return HANDLED

    pv, _, hooks = hosted(1.0)
    pv.set_write_handler(handler)
    before = pv.read()
    assert write(pv, 4.0) is None
    assert pv.read() is before
    assert len(hooks.calls) == 1  # the client's write was accepted
    assert hooks.calls[0][2] is before


def test_handler_that_publishes_itself_with_handled() -> None:
    async def handler(value: Any, client: Client) -> Any:
        pv.write(value + 0.5, timestamp=1234.0)
        return HANDLED

    pv, _, hooks = hosted(1.0)
    pv.set_write_handler(handler)
    old = pv.read()
    assert write(pv, 4.0) is None
    assert pv.read().value == 4.5 and pv.read().timestamp == 1234.0
    assert hooks.calls == [(pv, ALICE, old, pv.read())]


def test_handler_that_raises_changes_nothing() -> None:
    async def handler(value: Any, client: Client) -> Any:
        raise PutRefusedError("motor is moving")

    pv, _, hooks = hosted(1.0)
    pv.set_write_handler(handler)
    before = pv.read()
    seen: list[Reading] = []
    pv.add_listener(lambda r, o: seen.append(r))
    with pytest.raises(PutRefusedError, match="motor is moving"):
        write(pv, 2.0)
    unchanged(pv, before, hooks)
    assert seen == []


def test_handler_can_be_removed() -> None:
    async def handler(value: Any, client: Client) -> Any:
        return HANDLED

    pv, _, _ = hosted(1.0)
    pv.set_write_handler(handler)
    pv.set_write_handler(None)
    assert not pv.has_write_handler
    out = write(pv, 2.0)
    assert out is not None and out.value == 2.0


def test_hooks_get_pv_client_old_new_for_each_write() -> None:
    pv, store, hooks = hosted(0, dtype="long")
    other = Hooks()
    store.add_write_hook(other)
    bob = Client("pva", "ws2", "bob")
    r0 = pv.read()
    r1 = write(pv, 1)
    r2 = write(pv, 2, bob)
    assert hooks.calls == [(pv, ALICE, r0, r1), (pv, bob, r1, r2)]
    assert other.calls == hooks.calls
    store.remove_write_hook(other)
    write(pv, 3)
    assert len(hooks.calls) == 3 and len(other.calls) == 2


def test_python_writes_via_write_do_not_reach_hooks() -> None:
    pv, _, hooks = hosted(0.0)
    pv.write(5.0)
    assert hooks.calls == []


def test_failing_hook_does_not_undo_the_write(caplog: pytest.LogCaptureFixture) -> None:
    pv, store, hooks = hosted(0.0)

    def broken(*args: object) -> None:
        raise OSError("disk full")

    later = Hooks()
    store.add_write_hook(broken)
    store.add_write_hook(later)
    out = write(pv, 1.0)
    assert out is not None and pv.read().value == 1.0
    assert len(hooks.calls) == len(later.calls) == 1  # hooks after the broken one still run
    assert any("write hook failed for BL:X" in r.getMessage() for r in caplog.records)


def test_removed_pv_refuses_client_writes() -> None:
    pv, store, hooks = hosted(1.0)
    store.remove("BL:X")
    with pytest.raises(NotFoundError, match="no longer hosted"):
        write(pv, 2.0)
    assert pv.read().value == 1.0 and hooks.calls == []
