"""``before_shutdown``: what must end while channels still answer runs first, once;
after the interpreter-exit hook no new session is started (it would hang there)."""

from __future__ import annotations

import subprocess
import sys

import ctlshell
from ctlshell.api import _sessions, before_shutdown, session


def test_callbacks_run_before_the_session_closes_and_once_each():
    seen = []
    pv = ctlshell.host("UNIT:HOOK:PV", 1.5)

    def callback() -> None:  # the session still works here
        seen.append((ctlshell.get("local://UNIT:HOOK:PV").value, session().runtime.closed))

    before_shutdown(callback)
    before_shutdown(callback)
    try:
        ctlshell.shutdown()
        assert seen == [(1.5, False)]
    finally:
        pv.remove()
        _sessions._before_shutdown.remove(callback)


def test_a_failing_callback_is_logged_and_shutdown_goes_on(caplog):
    def broken() -> None:
        raise RuntimeError("boom")

    first = session()
    before_shutdown(broken)
    try:
        ctlshell.shutdown()
    finally:
        _sessions._before_shutdown.remove(broken)
    assert first.runtime.closed and "boom" in caplog.text


_AFTER_EXIT = """
import atexit, ctlshell
from ctlshell.api import _sessions
ctlshell.get  # a session, then the interpreter exits
_sessions.session()
def late():
    try:
        _sessions.session()
    except RuntimeError as exc:
        print("refused:", exc, flush=True)
atexit.register(late)  # after ctlshell's exit hook (threading's exit hooks run first)
"""


def test_no_session_is_started_once_the_interpreter_exits():
    proc = subprocess.run([sys.executable, "-c", _AFTER_EXIT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "refused: ctlshell has shut down: the interpreter is exiting" in proc.stdout, proc.stdout + proc.stderr
