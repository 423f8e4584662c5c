"""Acceptance 3 (issue 8) and 7 (issue 14): Tab completion answers from local caches
only: with no server running, from 10 000 names, within 50 ms, opening no socket.
Also hosted names and verbs in this process's shell, addresses inside the string
arguments of the verbs (``get("DEMO:S``), enum choices after ``put ADDR``, nothing
(never a Python name) for an unknown address, and Tango names from the cached list
of the Tango database."""

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

from .conftest import caproto_example

SCRIPT = Path(__file__).with_name("completion_offline.py")


def test_completion_from_10000_names_is_fast_and_opens_no_socket(tmp_path):
    env = loopback_env(ca_search_ports=[9])  # nothing listens there: every server is "stopped"
    env["IPYTHONDIR"] = str(tmp_path)
    env.pop("TANGO_HOST", None)  # no Tango database either (a fetch would open a socket in the background)
    proc = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=90)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@")]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    result = json.loads(lines[-1][2:])
    print(f"completion over {result['names']} names: median {result['median_ms']:.2f} ms, "
          f"90th percentile {result['p90_ms']:.2f} ms, max {result['max_ms']:.2f} ms in {result['calls']} calls")
    assert result["socket_events"] == [] and result["new_sockets"] == []
    assert result["detector_check"] == {"audit_events": 1, "new_fds": 1}  # both detectors do see a socket
    # the 50 ms bound on the median of 160 calls (~2.5 ms on an idle machine; ~9 ms
    # at load 10 on 2 cores, where single calls preempted reached 400 ms); the 90th
    # percentile five times that: a Tab that waited for anything would exceed both
    assert result["median_ms"] < 50.0 and result["p90_ms"] < 250.0, result
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


def complete(ip, line, *, same_in_kernel=True):
    """What Tab offers: the line with each completion applied, as the terminal shows them
    (IPython's prompt_toolkit completer, which drops completions of empty text).
    ``same_in_kernel``: check the kernel's API offers the same (not while a background
    fetch may land between the two calls)."""
    from IPython.terminal.ptutils import IPythonPTCompleter
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    found = IPythonPTCompleter(ipy_completer=ip.Completer).get_completions(Document(line, len(line)), CompleteEvent())
    offered = [line[:len(line) + c.start_position] + c.text for c in found]
    with provisionalcompleter():  # the kernel's API (Jupyter) offers nothing more than that
        api_lines = [line[:c.start] + c.text for c in ip.Completer.completions(line, len(line))]
    assert not same_in_kernel or set(api_lines) - {line} == set(offered) - {line}, (api_lines, offered)
    return offered


class NoSocket:
    """Records every socket this thread opens while it is active (an audit hook)."""

    def __init__(self) -> None:
        self.me = threading.get_ident()
        self.opened: list[str] = []
        self.recording = False
        sys.addaudithook(self._audit)  # cannot be removed: it stops recording on exit

    def _audit(self, event, args):
        if self.recording and event.startswith("socket.") and threading.get_ident() == self.me:
            self.opened.append(event)

    def __enter__(self):
        self.recording = True
        return self

    def __exit__(self, *exc):
        self.recording = False


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


def test_addresses_complete_inside_the_string_arguments_of_the_verbs(shell, prefix, hosted):
    hosted("SHUTTER", "Closed", enum=["Open", "Closed"], writable=True)
    hosted("SLIT", 1.0)
    shell.run_cell("from ctlshell import get, put, monitor, info, host\nimport ctlshell\nfrom ctlshell import api",
                   store_history=False)
    with NoSocket() as audit:
        assert complete(shell, f'get("{prefix}S') == [f'get("{prefix}SHUTTER', f'get("{prefix}SLIT']
        assert complete(shell, f"x = ctlshell.get('{prefix}SH") == [f"x = ctlshell.get('{prefix}SHUTTER"]
        assert complete(shell, f'api.monitor("ca://{prefix}SL') == [f'api.monitor("ca://{prefix}SLIT']
        assert complete(shell, f'print(info("{prefix}SL') == [f'print(info("{prefix}SLIT']
        assert complete(shell, f'ctlshell.api.put("{prefix}SL') == [f'ctlshell.api.put("{prefix}SLIT']
        assert complete(shell, f'host("{prefix}SL') == [f'host("{prefix}SLIT']
        # enum choices: the second argument of put, and the value of %pv put
        assert complete(shell, f'put("{prefix}SHUTTER", "') == [f'put("{prefix}SHUTTER", "Open',
                                                                 f'put("{prefix}SHUTTER", "Closed']
        assert complete(shell, f'put("{prefix}SHUTTER", "C') == [f'put("{prefix}SHUTTER", "Closed']
        assert complete(shell, f"%pv put {prefix}SHUTTER ") == [f"%pv put {prefix}SHUTTER Open",
                                                                f"%pv put {prefix}SHUTTER Closed"]
        assert complete(shell, f"%pv put {prefix}SHUTTER O") == [f"%pv put {prefix}SHUTTER Open"]
        assert complete(shell, f"%pv put {prefix}SLIT ") == []  # a number: the user's
        # not a verb of ctlshell: the name is not looked up there
        assert f'{{}}.get("{prefix}SHUTTER' not in complete(shell, f'{{}}.get("{prefix}SH')
        shell.user_ns["mine"] = lambda text: text
        assert complete(shell, f'mine("{prefix}SH') == []
    assert audit.opened == []


def test_an_unknown_address_offers_nothing_and_never_python_names(shell, prefix):
    shell.run_cell("from ctlshell import get", store_history=False)
    assert "delattr" in " ".join(complete(shell, "de"))  # what the other matchers would offer
    with NoSocket() as audit:
        for line in ("%pv get tango://sys/nowhere/1/de", "%pv get tango://127.0.0.1:9/sys/x/1/de",
                     f"%pv get {prefix}NOPE:de", f"%pv monitor ca://{prefix}de", f"%pv put {prefix}NOPE de",
                     'get("tango://sys/nowhere/1/de', f"get('{prefix}de", f'get("{prefix}A", "de'):
            assert complete(shell, line) == [], line
    assert audit.opened == []
    # a file name after %pv snapshot save is still the file matcher's
    assert complete(shell, "%pv snapshot save /tm") == ["%pv snapshot save /tmp/"]


def test_enum_choices_come_from_metadata_cached_by_an_earlier_call(shell, prefix, ioc):
    ioc(*caproto_example("enums", prefix))
    assert complete(shell, f"%pv put {prefix}mbbi ") == []  # never asked: Tab does not ask either
    shell.run_line_magic("pv", f"info {prefix}mbbi")  # asks the IOC, caches the metadata
    with NoSocket() as audit:
        assert complete(shell, f"%pv put {prefix}mbbi t") == [f"%pv put {prefix}mbbi two",
                                                              f"%pv put {prefix}mbbi three"]
        assert complete(shell, f'put("ca://{prefix}mbbi", "f') == [f'put("ca://{prefix}mbbi", "four']
    assert audit.opened == []


def test_tango_names_come_from_the_cached_database_list(shell, tango_db, tango_servers):
    from ctlshell import ipython

    shell.run_cell("from ctlshell import get", store_history=False)
    tango_names = ipython._STATE[id(shell)]["tango_names"]
    server = tango_servers("db")
    base = f"tango://{tango_db.host}/test/ctl{server.uid}"  # this spelling of the database: new here
    with NoSocket() as audit:
        # nothing cached: the fetch starts, Tab goes on (a fetch that lands at once may show)
        assert complete(shell, f"%pv get {base}/", same_in_kernel=False) in (
            [], [f"%pv get {base}/dev", f"%pv get {base}/motor"])
    assert tango_names.wait(30)
    with NoSocket() as audit2:
        assert complete(shell, f"%pv get {base}/") == [f"%pv get {base}/dev", f"%pv get {base}/motor"]
        complete(shell, f"%pv get {base}/dev/", same_in_kernel=False)  # starts fetching its members
    assert tango_names.wait(30)
    with NoSocket() as audit3:
        members = complete(shell, f"%pv get {base}/dev/")
        in_string = complete(shell, f'get("{base}/dev/double_sc')
        commands = complete(shell, f"%pv get {base}/dev->S")
    assert audit.opened == audit2.opened == audit3.opened == []
    assert f"%pv get {base}/dev/double_scalar" in members and f"%pv get {base}/dev/State" in members
    assert {f"%pv get {base}/dev->{c}" for c in ("Scale", "SetQuality", "StartPush", "Sum")} <= set(commands)
    assert all(c.startswith(f"%pv get {base}/dev->S") for c in commands)
    assert in_string == [f'get("{base}/dev/double_scalar']
    # a device registered later is offered after %pv list --refresh, not before
    later = tango_servers("db")
    assert complete(shell, f"%pv get {base[:-8]}{later.uid}/") == []
    listed = shell.run_line_magic("pv", f"list --refresh {base[:-8]}{later.uid}/*")
    assert listed == [f"{base[:-8]}{later.uid}/dev", f"{base[:-8]}{later.uid}/motor"]
    assert complete(shell, f"%pv get {base[:-8]}{later.uid}/m") == [f"%pv get {base[:-8]}{later.uid}/motor"]


def test_refresh_says_in_one_line_which_tango_database_it_could_not_reach(shell, capsys):
    from ctlshell.testing import free_port

    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    before = shell.run_line_magic("pv", "list")
    assert complete(shell, f"%pv get tango://{dead}/sys/", same_in_kernel=False) == []
    listed = shell.run_line_magic("pv", f"list --refresh tango://{dead}/*")
    err = capsys.readouterr().err
    assert listed == []
    lines = [line for line in err.splitlines() if dead in line]
    assert len(lines) == 1 and lines[0].startswith(f"%pv list: Tango names of the database {dead}: "), err
    after = shell.run_line_magic("pv", "list")  # nothing else changed (Tango lists were fetched again)
    assert [n for n in before if "tango://" not in n] == [n for n in after if "tango://" not in n]
