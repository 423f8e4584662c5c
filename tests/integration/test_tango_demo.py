"""``python -m ctlshell.testing.tango_demo``: the embedded database and the test devices
for a person to play with, stopped cleanly by SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time

import ctlshell
from ctlshell.testing import child_command, tango_env


def test_tango_demo_serves_by_name_and_stops_on_sigterm():
    proc = subprocess.Popen(child_command("-m", "ctlshell.testing.tango_demo"), env=tango_env(None),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, f"tango_demo exited early: {''.join(lines)}"
            lines.append(line)
            if "Ctrl-C stops" in line:
                break
        host = re.search(r"TANGO_HOST=(127\.0\.0\.1:\d+)", "".join(lines)).group(1)
        assert ctlshell.get(f"tango://{host}/demo/ctl/motor/State").value == "ON"
        assert ctlshell.info(f"tango://{host}/demo/ctl/motor/position").units == "mm"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        proc.stdout.close()
    with socket.socket() as sock:  # the database is gone with it
        assert sock.connect_ex(("127.0.0.1", int(host.split(":")[1]))) != 0
