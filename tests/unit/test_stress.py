"""tests.stress: the CPU burners of `make test-stress` burn, and stop by PID."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from tests.stress import Burners

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_a_burner_uses_cpu_and_is_gone_after_stop() -> None:
    with Burners(1) as burners:
        (pid,) = burners.pids
        proc = psutil.Process(pid)
        before = sum(proc.cpu_times()[:2])
        time.sleep(1.0)
        used = sum(proc.cpu_times()[:2]) - before
    assert used > 0.1, f"the burner used {used:.2f} s of CPU in 1 s"
    assert burners.pids == []
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        Burners(-1)
    proc = subprocess.run([sys.executable, "-m", "tests.stress", "-n", "1"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "give the command to run after --" in proc.stderr


def test_the_command_runs_beside_the_burners_and_its_exit_code_is_returned() -> None:
    code = "import psutil, sys; me = psutil.Process(); print(len(me.parent().children())); sys.exit(3)"
    proc = subprocess.run([sys.executable, "-m", "tests.stress", "-n", "2", "--", sys.executable, "-c", code],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    header, children = proc.stdout.splitlines()
    assert header.startswith("stress: 2 CPU burners (PIDs ")
    assert children == "3"  # two burners and the command, all children of the runner
    pids = [int(p) for p in header.split("PIDs ")[1].split(")")[0].split()]
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)
