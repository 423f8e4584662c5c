"""Issue 14, item 4: hosting what this session already hosts -- a cell run again --
replaces it quietly; the demo starts once; a name hosted by something else is still
refused."""

from __future__ import annotations

import pytest

import ctlshell
import ctlshell.demo
from ctlshell import ValidationError
from ctlshell.examples.oven import Oven


def test_hosting_a_pv_again_returns_it_at_its_initial_value(prefix):
    first = ctlshell.host(prefix + "T", 21.5, units="C", writable=True)
    first.value = 30.0
    again = ctlshell.host(prefix + "T", 21.5, units="C", writable=True)
    try:
        assert again is first and ctlshell.get(f"local://{prefix}T").value == 21.5
        changed = ctlshell.host(prefix + "T", 5, units="K")  # the cell was edited: replaced
        assert changed is not first and ctlshell.info(f"local://{prefix}T").units == "K"
        assert ctlshell.get(f"ca://{prefix}T").value == 5
    finally:
        ctlshell.unhost(prefix + "T")


def test_a_daemon_made_again_replaces_the_one_running(prefix):
    first = ctlshell.host(Oven(prefix))
    second = ctlshell.host(Oven(prefix))
    try:
        assert not first.running and second.running
        assert ctlshell.get(f"ca://{prefix}SETPOINT").value == 295.0
    finally:
        ctlshell.unhost(second)
    assert f"{prefix}SETPOINT" not in ctlshell.hosted()


def test_a_name_of_another_kind_is_still_refused(prefix):
    ctlshell.host(prefix + "SETPOINT", 1.0)
    try:
        with pytest.raises(ValidationError, match="already hosted"):
            ctlshell.host(Oven(prefix))
    finally:
        ctlshell.unhost(prefix + "SETPOINT")


def test_demo_start_is_idempotent(prefix):
    demo = ctlshell.demo.start(prefix)
    try:
        assert ctlshell.demo.start(prefix) is demo
    finally:
        ctlshell.unhost(demo)
