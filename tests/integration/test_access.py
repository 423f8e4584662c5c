"""Acceptance 5 of hosted devices: writes limited by client host and user name (which
CA sends), read-only PVs, and the journal of accepted writes."""

from __future__ import annotations

import getpass

import pytest

import ctlshell
from ctlshell.core import PutRefusedError

from .conftest import pyepics

ME = getpass.getuser()


@pytest.fixture
def pv(prefix):
    handle = ctlshell.host(prefix + "GAIN", 1.0, limits=(0, 100), writable=True)
    yield handle
    ctlshell.restrict_writes()
    handle.remove()


def test_rule_by_user_refuses_other_clients_and_changes_nothing(pv):
    ctlshell.restrict_writes(users=["beamline-operator"])
    got = pyepics("put", pv.name, "5.0")
    assert not got["ok"] and got["readback"] == 1.0, got
    assert ctlshell.journal(pv.name) == []
    pv.value = 2.0  # Python code in this process owns the PV: never refused by the rule
    ctlshell.restrict_writes(users=[ME, "beamline-operator"])
    assert pyepics("put", pv.name, "5.0")["ok"]
    assert [(e.user, e.old, e.new) for e in ctlshell.journal(pv.name)] == [(ME, 2.0, 5.0)]


def test_rule_by_host(pv):
    ctlshell.restrict_writes(hosts=["control-room-*"])
    got = pyepics("putcb", pv.name, "7.0")
    assert not got["ok"] and got["readback"] == 1.0
    ctlshell.restrict_writes(hosts="control-room-*, *")
    assert pyepics("putcb", pv.name, "7.0")["ok"]
    entry, = ctlshell.journal(pv.name)
    assert entry.host and entry.protocol == "ca" and entry.new == 7.0


def test_python_client_write_through_ca_is_checked_too(pv):
    ctlshell.restrict_writes(users=["nobody-here"])
    with pytest.raises(ctlshell.CtlshellError):
        ctlshell.put(f"ca://{pv.name}", 9.0, wait=True)
    assert pv.value == 1.0


def test_read_only_refuses_every_client_and_journal_lists_each_accepted_write(prefix):
    ro = ctlshell.host(prefix + "RO", 3.0)
    rw = ctlshell.host(prefix + "RW", 0, writable=True)
    try:
        got = pyepics("put", ro.name, "4.0")
        assert not got["ok"] and got["readback"] == 3.0
        for value in (1, 2, 3):
            assert pyepics("putcb", rw.name, str(value))["ok"]
        assert [(e.old, e.new) for e in ctlshell.journal(rw.name)] == [(0, 1), (1, 2), (2, 3)]
        assert ctlshell.journal(ro.name) == []
        text = str(ctlshell.journal(rw.name)[-1])
        assert rw.name in text and "2 -> 3" in text and ME in text
    finally:
        ro.remove()
        rw.remove()


def test_rule_errors_are_clear():
    with pytest.raises(ctlshell.ValidationError, match="at least one"):
        ctlshell.restrict_writes(users=[])
    rule = ctlshell.restrict_writes(users="alice bob")
    assert rule.users == ("alice", "bob")
    ctlshell.restrict_writes()
    assert issubclass(PutRefusedError, ctlshell.CtlshellError)
