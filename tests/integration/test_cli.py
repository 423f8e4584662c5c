"""The ``ctlshell`` console script, run as a user would (in a subprocess, on loopback)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psutil

from ctlshell.core import stop_process
from ctlshell.testing import free_port, loopback_env

SCRIPT = Path(sys.executable).with_name("ctlshell")
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    port = free_port()
    env = loopback_env(ca_server_port=port, ca_search_ports=[port])
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=90)


def test_demo_beamline_answers_and_motor_moves_the_detector():
    proc = run("--demo", "-c", "\n".join([
        "import time",
        "put('DEMO:SHUTTER', 'Open'); put('DEMO:MOTOR', 2.5, wait=True)",
        "time.sleep(2.0)",
        "print('RBV', get('DEMO:MOTOR.RBV').value)",
        "print('COUNTS', get('DEMO:DET:COUNTS').value)",
        "print('UNITS', info('DEMO:MOTOR').units)",
    ]))
    assert proc.returncode == 0, proc.stderr
    out = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if line[:3] in ("RBV", "COU", "UNI"))
    assert float(out["RBV"]) == 2.5
    assert int(out["COUNTS"]) > 500, "at the peak the detector counts far above background"
    assert out["UNITS"] == "mm"


def test_errors_print_one_line_not_a_traceback():
    proc = run("--demo", "-c", "put('DEMO:MOTOR', 50)")
    lines = [line for line in proc.stderr.splitlines() if "ValidationError" in line]
    assert lines == ["ValidationError: ca://DEMO:MOTOR: 50.0 mm is outside the control limits [-10.0, 10.0] mm"]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_version():
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == "0.1.0"


def test_profile_demo_runs_magics_with_units():
    proc = run("--profile", "demo", "-c", "%pv get DEMO:SAMPLE:TEMP")
    assert proc.returncode == 0, proc.stderr
    assert "ca://DEMO:SAMPLE:TEMP  295.00 K  ok" in proc.stdout


def test_unknown_profile_and_a_bad_nxwriter_data_dir_say_so_in_one_line(tmp_path):
    proc = run("--profile", "nope", "-c", "pass")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "ctlshell: no ctlshell profile 'nope'; profiles: default, demo"
    proc = run("nxwriter", "--data-dir", str(tmp_path / "missing"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"ctlshell nxwriter: data directory {tmp_path / 'missing'} does not exist"


def test_nxwriter_serves_the_writer_device_on_loopback(tmp_path):
    import tango

    env = {k: v for k, v in os.environ.items() if k != "TANGO_HOST"}  # no database: the default
    # no --port: the system picks one when the server binds, and the first line says which
    proc = subprocess.Popen([str(SCRIPT), "nxwriter", "--data-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        ready = re.fullmatch(r"NexusWriter ready: (tango://127\.0\.0\.1:(\d+)/ctlshell/nexus/writer#dbase=no) "
                             r"\(data directory (.*)\)", first.strip())
        assert ready, first
        address, port, data_dir = ready.groups()
        assert data_dir == str(tmp_path) and 0 < int(port) < 65536
        p = tango.DeviceProxy(address)
        assert str(p.state()) == "ON" and p.status() == "Ready" and p.Summary == "ON: ready, no file open"
        # the port printed is the one it listens on, on loopback only
        listening = {c.laddr for c in psutil.Process(proc.pid).net_connections("tcp") if c.status == "LISTEN"}
        assert ("127.0.0.1", int(port)) in listening, listening
    finally:
        stop_process(proc)
        proc.stdout.close()  # type: ignore[union-attr]


def test_kernelspec_installs_a_kernel_that_loads_the_extension(tmp_path):
    proc = run("kernelspec", "--prefix", str(tmp_path), "--profile", "demo", "--name", "ctlshell-demo")
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((tmp_path / "share/jupyter/kernels/ctlshell-demo/kernel.json").read_text())
    # the kernel runs the profile directory (tests/integration/test_profiles.py: that it uses it)
    assert spec["argv"][1:] == ["-m", "ctlshell.ipython.kernel", "-f", "{connection_file}",
                                f"--profile-dir={(ROOT / 'profiles' / 'demo').resolve()}"]
    assert spec["display_name"] == "ctlshell (demo)"
