"""The soak test behind docs/decisions/0002-ca-client-aioca.md: ctlshell's CA client
(aioca on libca) against a fast C IOC flooding a monitor, and connect / put /
server-restart churn. In every run the final value must arrive."""

from __future__ import annotations

import re
from pathlib import Path
import threading
import time

import pytest

import ctlshell

from .conftest import caproto_example

FLOOD_SECONDS = 3.0


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.soak
@pytest.mark.parametrize("record", ["COUNT", "WAVE"])
def test_flooding_softioc_final_value_always_arrives(ioc, prefix, record):
    proc = ioc(str(Path(__file__).with_name("softioc_flood.py")), prefix, "3", str(FLOOD_SECONDS))
    addr = f"ca://{prefix}{record}"
    seen: list[float] = []
    slow_seen: list[float] = []

    def value_of(reading):
        v = reading.value
        return float(v[0]) if hasattr(v, "__len__") else float(v)

    fast = ctlshell.monitor(addr, lambda r: seen.append(value_of(r)) if r.connected else None)
    # a second local subscriber that is slow must not stop the final value reaching either
    slow = ctlshell.monitor(addr, lambda r: (slow_seen.append(value_of(r)), time.sleep(0.05)))
    try:
        assert wait_for(lambda: "FINAL" in proc.output(), 30), proc.output()[-2000:]
        final = float(re.search(r"FINAL (\d+)", proc.output()).group(1))
        assert final > 1000, "the IOC really flooded"
        assert wait_for(lambda: seen and seen[-1] == final, 15), f"last seen {seen[-1:]} of {final}"
        assert wait_for(lambda: slow_seen and slow_seen[-1] == final, 15)
        assert slow.dropped > 0
        assert seen == sorted(seen), "updates arrive in order"
    finally:
        fast.close()
        slow.close()


@pytest.mark.soak
def test_connect_put_restart_churn(ioc, prefix):
    proc = ioc(*caproto_example("simple", prefix))
    addr = f"ca://{prefix}B"
    readings = []
    got = threading.Event()
    sub = ctlshell.monitor(addr, lambda r: (readings.append(r), got.set()), policy=1000)
    try:
        for cycle in range(5):
            value = 100.0 + cycle
            assert wait_for(lambda: readings and readings[-1].connected, 20), f"cycle {cycle}: no reconnect"
            for i in range(20):  # a burst of puts; the last must be the value that stays
                ctlshell.put(addr, value - 1 + i / 20)
            ctlshell.put(addr, value, wait=True)
            assert wait_for(lambda: readings[-1].value == value, 5), f"cycle {cycle}: final put not seen"
            assert ctlshell.get(addr).value == value
            proc.restart()  # the IOC restarts with its initial value
        assert wait_for(lambda: readings[-1].connected and readings[-1].value == 2.0, 20)
        assert sum(1 for r in readings if not r.connected) >= 5, "each restart was seen as a disconnect"
    finally:
        sub.close()


EXIT_DURING_FLOOD = """
import sys, time
import ctlshell
seen = []
sub = ctlshell.monitor(sys.argv[1], lambda r: seen.append(r.value) if r.connected else None)
deadline = time.monotonic() + 20
while len(seen) < 50 and time.monotonic() < deadline:
    time.sleep(0.05)
print("@@", len(seen), flush=True)
# no close(), no shutdown(): the interpreter exits with the subscription open mid-flood
"""


@pytest.mark.soak
def test_a_script_ending_during_a_flood_exits_cleanly(ioc, prefix):
    """ctlshell's exit hook runs before aioca's (which destroys libca's context): a script
    that ends with a CA subscription open while its IOC floods used to abort with
    'terminate called ... epicsMutex::invalidMutex' (exit status 134)."""
    import os
    import subprocess

    from ctlshell.testing import child_command

    ioc(str(Path(__file__).with_name("softioc_flood.py")), prefix, "0.2", "15")
    for _ in range(3):
        proc = subprocess.run(child_command("-c", EXIT_DURING_FLOOD, f"ca://{prefix}COUNT"), env=dict(os.environ),
                              capture_output=True, text=True, timeout=60)
        assert "@@" in proc.stdout and int(proc.stdout.split("@@")[1]) >= 50, proc.stdout + proc.stderr
        assert proc.returncode == 0 and "invalidMutex" not in proc.stderr, proc.stderr[-2000:]
