"""Acceptance 4 of hosted devices: ``ctlshell serve`` runs a daemon headless; SIGTERM
and SIGINT stop it cleanly; persisted items survive a restart, the others return to
their initial values; the journal is in the same state file."""

from __future__ import annotations

import signal
import subprocess
import sys

from ctlshell.host import StateFile
from ctlshell.testing import child_command, loopback_env

from .conftest import pyepics

READY = "ctlshell serve: ready"


def test_persisted_items_survive_a_restart(ioc, prefix, tmp_path):
    state = tmp_path / "oven.db"
    server = ioc("-m", "ctlshell.cli", "serve", "ctlshell.examples.oven:Oven", "--prefix", prefix,
                 "--state", str(state), ready_text=READY)
    assert pyepics("putcb", prefix + "SETPOINT", "301.5")["ok"]  # persist: true
    assert pyepics("putcb", prefix + "RAMP", "12.5")["ok"]  # persist: false
    assert pyepics("putcb", prefix + "NOTE", '"sample A"')["ok"]
    assert pyepics("putcb", prefix + "SETPOINT", "4.5")["ok"] is False  # refused by validate
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(15) == 0
    assert "ctlshell serve: stopped" in server.output()

    server.start()
    got = pyepics("describe", prefix + "SETPOINT", prefix + "RAMP", prefix + "NOTE")
    assert got[prefix + "SETPOINT"]["value"] == 301.5
    assert got[prefix + "RAMP"]["value"] == 5.0  # its initial value
    assert got[prefix + "NOTE"]["value"] == "sample A"
    server.stop()  # SIGINT
    assert "ctlshell serve: stopped" in server.output()

    journal = StateFile(state).journal()
    assert [(e.pv.removeprefix(prefix), e.new) for e in journal] == [
        ("SETPOINT", 301.5), ("RAMP", 12.5), ("NOTE", "sample A")]
    assert all(e.protocol == "ca" and e.user for e in journal)


def test_bad_target_gives_a_clear_error():
    env = loopback_env()
    for target, message in (("nocolon", "expected module:Class"),
                            ("ctlshell.nosuchmodule:X", "cannot import"),
                            ("ctlshell.examples.oven:Nope", "has no 'Nope'"),
                            ("ctlshell.examples.oven:MAX_STEP", "not a class"),
                            ("ctlshell.host:StateFile", "not a ctlshell Daemon")):
        proc = subprocess.run(child_command("-m", "ctlshell.cli", "serve", target), env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (target, proc.stdout, proc.stderr)
        assert message in proc.stderr, (target, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_serve_help_names_the_options():
    proc = subprocess.run([sys.executable, "-m", "ctlshell.cli", "serve", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0
    for option in ("--prefix", "--state", "--interface", "--allow-user", "module:Class"):
        assert option in proc.stdout
