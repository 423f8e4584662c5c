"""Issue 20, acceptance 2 in a real terminal: Ctrl-C during ``%scan`` in ``ctlshell
--profile demo`` stops the motor at once and says so; ``RE.resume()`` completes the
scan; Ctrl-C during ``%mov`` stops the move, and ``exit`` then ends the paused run
and the shell."""

from __future__ import annotations

import re
import time

import pexpect

from .test_repl import expect_clean, repl  # noqa: F401 (the fixture)


def _rbv(repl, n: int) -> float:  # noqa: F811 (the fixture imported above)
    repl.sendline("print('RBV', ctlshell.get('DEMO:MOTOR.RBV').value, ctlshell.get('DEMO:MOTOR.MOVN').value)")
    text = expect_clean(repl, rf"RBV (\S+) (\d)\n[\s\S]*In \[{n}\]:")
    rbv, movn = re.findall(r"RBV (\S+) (\d)\n", text)[-1]
    assert movn == "0", text  # not moving
    return float(rbv)


def test_ctrl_c_during_a_scan_stops_the_motor_and_resume_finishes(repl):  # noqa: F811
    repl.sendline("%pv put DEMO:SHUTTER Open")
    expect_clean(repl, r"In \[2\]:")
    repl.sendline("%scan DEMO:DET:COUNTS DEMO:MOTOR 0 8 5")  # 2 mm/s: each 2 mm step takes 1 s
    expect_clean(repl, r"\|\s+1 \|", timeout=30)  # the first row of the live table
    time.sleep(0.8)
    repl.sendcontrol("c")
    stopped = time.monotonic()
    text = expect_clean(repl, r"run paused and motion stopped[\s\S]*In \[3\]:", timeout=10)
    assert "Ctrl-C: pausing" in text and "Traceback" not in text
    first = _rbv(repl, 4)
    assert time.monotonic() - stopped < 5
    time.sleep(0.5)
    assert _rbv(repl, 5) == first and 0 < first < 8  # stopped between two points
    repl.sendline("RE.resume()")
    text = expect_clean(repl, r"Peaks over DEMO:MOTOR[\s\S]*In \[\d+\]:", timeout=30)
    assert "Traceback" not in text


def test_ctrl_c_during_mov_stops_the_move(repl):  # noqa: F811
    repl.sendline("%mov DEMO:MOTOR 0.5")  # makes the motor device (and imports bluesky) first
    expect_clean(repl, r"DEMO:MOTOR: 0\.5[\s\S]*In \[2\]:", timeout=60)
    repl.sendline("%mov DEMO:MOTOR 9")  # 4.25 s at 2 mm/s
    time.sleep(1.5)
    repl.sendcontrol("c")
    expect_clean(repl, r"run paused and motion stopped[\s\S]*In \[3\]:", timeout=10)
    first = _rbv(repl, 4)
    time.sleep(0.5)
    assert _rbv(repl, 5) == first and 1.0 < first < 9
    # leaving the shell with the run still paused ends the run, and the shell at once
    # (it hung for good in bluesky's cleanup, after the session had closed)
    repl.sendline("exit")
    repl.expect(pexpect.EOF, timeout=20)
    said = repl.before
    assert "aborting the paused run" in said and "Run aborted" in said, said
    assert "Traceback" not in said and "Task was destroyed" not in said, said
