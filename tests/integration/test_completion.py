"""Acceptance 3: Tab completion of ``%pv`` answers from local caches only: with no
server running, from 10 000 names, within 50 ms, opening no socket. Also the
completion of hosted names and verbs in this process's shell."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

import ctlshell
from ctlshell.testing import loopback_env

SCRIPT = Path(__file__).with_name("completion_offline.py")


def test_completion_from_10000_names_is_fast_and_opens_no_socket(tmp_path):
    env = loopback_env(ca_search_ports=[9])  # nothing listens there: every server is "stopped"
    env["IPYTHONDIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=90)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@")]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    result = json.loads(lines[-1][2:])
    print(f"completion over {result['names']} names: median {result['median_ms']:.2f} ms, "
          f"max {result['max_ms']:.2f} ms in {result['calls']} calls")
    assert result["socket_events"] == [] and result["new_sockets"] == []
    assert result["detector_check"] == {"audit_events": 1, "new_fds": 1}  # both detectors do see a socket
    assert result["max_ms"] < 50.0, result  # the bound; measured typically ~10x below it
    counts = result["counts"]
    assert counts["%pv get BL1"] > 100 and counts["%pv get tango://sys/tg_test/12"] == len(
        [i for i in range(result["names"]) if i % 4 == 2 and str(i).startswith("12")])
    assert counts["%pv get ca://BL05:DEV"] > 10 and counts["%pv monitor pva://BL0"] > 100
    assert counts["%pv put BL2"] > 0 and counts["%pv get "] == 500  # capped: a menu, not a flood
    assert result["offline"] == ["CHANNEL"]  # the channel cache of the live session is offered too
    assert result["bare"][0].startswith("BL1")


@pytest.fixture(scope="module")
def shell():
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    ip.run_line_magic("load_ext", "ctlshell")
    yield ip
    from ctlshell import ipython

    ipython._remove(ip)
    InteractiveShell.clear_instance()


def complete(ip, line):
    """What Tab puts in the line: the line with each completion applied."""
    with provisionalcompleter():
        return [line[:c.start] + c.text for c in ip.Completer.completions(line, len(line))]


def test_hosted_names_verbs_and_options_complete_without_the_network(shell, prefix, monkeypatch):
    ctlshell.host(f"{prefix}TEMP", 1.0)
    ctlshell.host(f"{prefix}TARGET", 2.0)
    me = threading.get_ident()
    opened = []
    recording = [True]

    def audit(event, args):
        if recording[0] and event.startswith("socket.") and threading.get_ident() == me:
            opened.append(event)

    sys.addaudithook(audit)  # cannot be removed: it stops recording when this test ends
    assert complete(shell, f"%pv get {prefix}T") == [f"%pv get {prefix}TARGET", f"%pv get {prefix}TEMP"]
    assert complete(shell, f"%pv get ca://{prefix}TE") == [f"%pv get ca://{prefix}TEMP"]
    assert complete(shell, "%pv mon") == ["%pv monitor"]
    assert complete(shell, "%pv snapshot re") == ["%pv snapshot restore"]
    assert complete(shell, "%pv monitor X --r") == ["%pv monitor X --rate"]
    assert complete(shell, f"%pv put {prefix}TEMP 1") == []  # the value is the user's
    # a backend's local cache (the Tango database cache, say) offers its names the same way
    from ctlshell import ipython

    ipython.add_name_source(lambda: [f"tango://sys/{prefix[:-1].lower()}/1/ampli"])
    assert complete(shell, f"%pv get tango://sys/{prefix[:3].lower()}") == [
        f"%pv get tango://sys/{prefix[:-1].lower()}/1/ampli"]
    recording[0] = False
    assert opened == []
    # names used by %pv are remembered for later completion
    shell.run_line_magic("pv", f"get local://{prefix}TEMP")
    assert complete(shell, f"%pv get local://{prefix}") == [f"%pv get local://{prefix}TEMP"]
