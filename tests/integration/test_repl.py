"""Acceptance 2: ``ctlshell --profile demo`` in a real terminal (a pseudo-terminal
driven by pexpect): values with units, a monitor stopped by Ctrl-C, Ctrl-C during
``put --wait``, and Tab completion of a demo PV name."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pexpect
import pytest

from ctlshell.testing import free_port, loopback_env

SCRIPT = str(Path(sys.executable).with_name("ctlshell"))
ARGS = ["--profile", "demo", "--HistoryManager.hist_file=:memory:",
        "--TerminalInteractiveShell.autosuggestions_provider=None", "--colors=NoColor"]
# prompt_toolkit draws with escapes; the space after "In [1]:" is a cursor move
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\r")
PROMPT = r"In \[(\d+)\]:"


def expect_clean(child: pexpect.spawn, pattern: str, timeout: float = 20) -> str:
    """Wait until ``pattern`` appears in the escape-stripped output; returns that text.

    What came after the match is kept for the next call: a value and the prompt after it
    often arrive in one read, and a wait for that prompt must still see it (dropping it
    failed a stress run: ``'In \\[3\\]:' not in the terminal output: ''``)."""
    rx = re.compile(pattern)
    rest = getattr(child, "clean_rest", "")
    raw, child.buffer = child.buffer, ""
    deadline = time.monotonic() + timeout
    while True:
        text = rest + ANSI.sub("", raw)
        match = rx.search(text)
        if match:
            child.last_raw = raw
            child.clean_rest = text[match.end():]
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not in the terminal output: {text[-800:]!r}")
        try:
            raw += child.read_nonblocking(4096, timeout=0.2)
        except pexpect.TIMEOUT:
            pass


@pytest.fixture
def repl(tmp_path):
    port = free_port()
    env = loopback_env(ca_server_port=port, ca_search_ports=[port])
    env.update(TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1", IPYTHONDIR=str(tmp_path / "ipython"))
    child = pexpect.spawn(SCRIPT, ARGS, env=env, dimensions=(30, 120), encoding="utf-8", timeout=30)
    expect_clean(child, PROMPT, timeout=40)
    yield child
    if child.isalive():
        child.sendline("exit")
        try:
            child.expect(pexpect.EOF, timeout=15)
        except pexpect.TIMEOUT:
            child.terminate(force=True)
    child.close()


def test_get_prints_value_with_units_and_tab_completes(repl):
    repl.sendline("%pv get DEMO:SAMPLE:TEMP")
    # one pattern: the value and the next prompt may arrive in one read
    expect_clean(repl, r"ca://DEMO:SAMPLE:TEMP +295\.00 K +ok +\d\d:\d\d:\d\d\.\d{3}[\s\S]*In \[2\]:")
    repl.send("%pv get DEMO:RING:CU\t")  # one candidate: completed in the line
    expect_clean(repl, r"%pv get DEMO:RING:CURRENT")
    repl.send("\r")
    expect_clean(repl, r"ca://DEMO:RING:CURRENT +\d+\.\d\d mA")
    expect_clean(repl, r"In \[3\]:")
    repl.send("%pv monitor DEMO:MOTOR.\t")  # several candidates: a menu of them
    text = expect_clean(repl, r"MOTOR\.MOVN[\s\S]*MOTOR\.VELO")
    menu = text[text.rindex("%pv monitor DEMO:MOTOR."):]
    assert all(f"MOTOR.{f}" in menu for f in ("MOVN", "RBV", "STOP", "VELO")) and "Traceback" not in text
    repl.send("RBV --duration 0.5\r")  # finish the name by hand and run it
    expect_clean(repl, r"monitor stopped: 1 updates, 0 dropped[\s\S]*In \[4\]:")


def test_monitor_prints_updates_until_ctrl_c(repl):
    repl.sendline("%pv put DEMO:SHUTTER Open")
    expect_clean(repl, r"In \[2\]:")
    repl.sendline("%pv monitor DEMO:DET:COUNTS --rate 5")
    seen = expect_clean(repl, r"ca://DEMO:DET:COUNTS +\d+ counts +ok[^\n]*\n[\s\S]*ca://DEMO:DET:COUNTS +\d+ counts")
    counts = [int(n) for n in re.findall(r"ca://DEMO:DET:COUNTS +\d+ counts +ok +\S+ +(\d+) ", seen)]
    assert len(counts) >= 2 and counts[-1] > counts[0], seen  # the updates column grows...
    assert "\x1b[2F" in repl.last_raw  # ...in place: the cursor goes back up over header and row
    repl.sendcontrol("c")
    text = expect_clean(repl, r"monitor stopped: (\d+) updates, (\d+) dropped[\s\S]*In \[3\]:")
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    repl.sendline("%pv status")  # the prompt works again; the monitor's channel has no user left
    text = expect_clean(repl, r"ca://DEMO:DET:COUNTS +\d+ counts +ok .* no \(not monitored\) +connected +0 ")
    expect_clean(repl, r"In \[4\]:")


def test_ctrl_c_during_put_wait_stops_the_motor(repl):
    repl.sendline("%pv put DEMO:MOTOR 9 --wait")  # 2 mm/s: the move takes 4.5 s
    time.sleep(1.0)
    repl.sendcontrol("c")
    text = expect_clean(repl, r"interrupted and stopped \(ca://DEMO:MOTOR\.STOP <- 1\)[\s\S]*In \[2\]:", timeout=5)
    assert "Traceback" not in text
    repl.sendline("a = ctlshell.get('DEMO:MOTOR.RBV').value; time.sleep(0.5) if 'time' in dir() else None")
    expect_clean(repl, r"In \[3\]:")
    repl.sendline("import time; time.sleep(0.5); b = ctlshell.get('DEMO:MOTOR.RBV').value; "
                  "print('RBV', a, b, ctlshell.get('DEMO:MOTOR.MOVN').value)")
    text = expect_clean(repl, r"RBV (\S+) (\S+) (\d)\n")
    a, b, movn = re.search(r"RBV (\S+) (\S+) (\d)\n", text).groups()
    assert a == b and movn == "0" and 0.5 < float(a) < 9.0, text  # stopped on the way, not moving
    repl.sendline("%pv stop DEMO:MOTOR")  # explicitly, too
    expect_clean(repl, r"ca://DEMO:MOTOR: stopped \(ca://DEMO:MOTOR\.STOP <- 1\)")
    repl.sendline("%pv get ca://NOBODY:SERVES:THIS")  # would wait 5 s for a server
    time.sleep(0.5)
    repl.sendcontrol("c")
    text = expect_clean(repl, r"%pv get: interrupted\s*\n[\s\S]*In \[\d+\]:", timeout=3)
    assert "Traceback" not in text


def test_tab_in_verb_strings_enum_choices_and_nothing_for_an_unknown_name(repl):
    repl.send('x = get("DEMO:SHU\t')  # inside the string argument of a verb
    expect_clean(repl, r'x = get\("DEMO:SHUTTER')
    repl.send('")\r')
    expect_clean(repl, r"In \[2\]:")
    repl.send("%pv put DEMO:SHUTTER \t")  # the enum choices, from the hosted PV's spec
    text = expect_clean(repl, r"Open[\s\S]*Closed")
    assert "Traceback" not in text
    repl.send("Op\t")  # one choice left: completed in the line (the redraw shows only "en")
    time.sleep(1.0)
    repl.send("\r")
    text = expect_clean(repl, r"In \[3\]:")
    assert "Error" not in text, text  # "Op" alone is no choice of DEMO:SHUTTER
    repl.sendline("%pv get DEMO:SHUTTER")
    expect_clean(repl, r"ca://DEMO:SHUTTER +Open[\s\S]*In \[4\]:")
    # an unknown name: Tab changes nothing (it offered Python's delattr here once)
    repl.send("%pv get --timeout 0.3 DEMO:NOPE:de\t")
    time.sleep(1.0)
    repl.send("\r")
    text = expect_clean(repl, r"ca://DEMO:NOPE:de\b[^\n]*no answer[\s\S]*In \[5\]:")
    assert "delattr" not in text
    repl.send('get("DEMO:NOPE:de\t')
    time.sleep(1.0)
    repl.send('", timeout=0.3)\r')
    text = expect_clean(repl, r"ca://DEMO:NOPE:de\b[^\n]*no answer[\s\S]*In \[6\]:")
    assert "delattr" not in text
