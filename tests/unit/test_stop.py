"""ctlshell.core.stop_process against real child processes (no mocks): the signal, the
SIGKILL after the timeout, the process group, and a child that has already exited."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import pytest

from ctlshell.core import stop_process

IGNORES_TERM = ("import signal, sys, time\n"
                "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "print('ready', flush=True)\n"
                "time.sleep(600)\n")


def _alive(pid: int) -> bool:
    """Whether the PID runs (a zombie waiting for a reaper has ended)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _start(code: str, **kw) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, **kw)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip().startswith("ready")
    return proc


def test_sigterm_ends_a_well_behaved_child() -> None:
    proc = _start("import time; print('ready', flush=True); time.sleep(600)")
    assert stop_process(proc, timeout=30) == -signal.SIGTERM
    proc.stdout.close()


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout() -> None:
    proc = _start(IGNORES_TERM)
    t0 = time.monotonic()
    assert stop_process(proc, timeout=0.5) == -signal.SIGKILL
    assert time.monotonic() - t0 >= 0.5  # it waited before SIGKILL
    proc.stdout.close()


def test_sigint_first_for_servers_that_stop_on_ctrl_c() -> None:
    proc = _start("import time\ntry:\n print('ready', flush=True); time.sleep(600)\nexcept KeyboardInterrupt:\n"
                  " raise SystemExit(7)\n")
    assert stop_process(proc, timeout=30, sig=signal.SIGINT) == 7
    proc.stdout.close()


def test_group_stops_the_childs_own_children() -> None:
    # the leader starts a grandchild that ignores SIGTERM, then exits on SIGTERM itself
    code = ("import subprocess, sys, time\n"
            f"g = subprocess.Popen([sys.executable, '-c', {IGNORES_TERM!r}], stdout=subprocess.PIPE, text=True)\n"
            "g.stdout.readline()\n"
            "print('ready', g.pid, flush=True)\n"
            "time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True)
    word, pid = proc.stdout.readline().split()
    grandchild = int(pid)
    assert _alive(grandchild)
    stop_process(proc, timeout=30, group=True)
    deadline = time.monotonic() + 30  # the grandchild is reaped by init once killed
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the grandchild outlived stop_process(group=True)"
    proc.stdout.close()


def test_already_exited_and_none() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait(30)
    assert stop_process(proc) == 3
    assert stop_process(None) is None


@pytest.mark.parametrize("group", [False, True])
def test_stop_is_idempotent(group: bool) -> None:
    proc = _start("import time; print('ready', flush=True); time.sleep(600)", start_new_session=group)
    first = stop_process(proc, timeout=30, group=group)
    assert stop_process(proc, timeout=30, group=group) == first
    proc.stdout.close()
