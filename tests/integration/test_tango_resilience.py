"""Tango acceptance 4 and 5: a device server killed and restarted, and a device
pushing change events faster than Python can take them."""

from __future__ import annotations

import time

import pytest

import ctlshell
from ctlshell import KeepLast, Severity

from ..waiting import wait_for
from .tango_fixtures import device


@pytest.mark.parametrize("mode", ["db", "nodb"])
def test_kill_gives_disconnected_within_5s_and_restart_resumes(tango_servers, mode):
    """Acceptance 4, for an event subscription and a polled one."""
    server = tango_servers(mode)
    dev = device(server)
    events, polled = [], []
    with ctlshell.monitor(server.address(dev, "double_scalar"), events.append, policy=KeepLast(100)), \
         ctlshell.monitor(server.address(dev, "noevent_double"), polled.append, policy=KeepLast(100)):
        wait_for(lambda: events and polled, 5, "the first updates")
        ctlshell.put(server.address(dev, "double_scalar"), 5.0)
        wait_for(lambda: events[-1].value == 5.0, 5, "the change event")

        server.kill()
        killed = time.monotonic()
        for seen, what in ((events, "events"), (polled, "polling")):
            at = wait_for(lambda: seen[-1].severity is Severity.DISCONNECTED, 5, f"DISCONNECTED ({what})")
            assert at - killed < 5
            print(f"{mode} {what}: DISCONNECTED {at - killed:.2f} s after the kill")
        assert not seen[-1].connected
        with pytest.raises((ctlshell.DisconnectedError, ctlshell.ChannelTimeoutError), match="cannot reach"):
            ctlshell.get(server.address(dev, "double_scalar"))
        state = {s.address: s.state for s in ctlshell.status()}
        assert str(state[server.address(dev, "double_scalar")]) == "disconnected"

        server.start()  # same port, same name: a fresh process with fresh values
        restarted = time.monotonic()
        at = wait_for(lambda: events[-1].connected and polled[-1].connected, 10, "the subscriptions to resume")
        print(f"{mode}: subscriptions resumed {at - restarted:.2f} s after the server answered again")
        assert events[-1].value == 1.5 and polled[-1].value == 20.0
        ctlshell.put(server.address(dev, "double_scalar"), 7.0)
        ctlshell.put(server.address(dev, "noevent_double"), 21.0)
        wait_for(lambda: events[-1].value == 7.0 and polled[-1].value == 21.0, 5, "updates after the restart")
    assert [r.value for r in events].count(None) == 1  # one DISCONNECTED marker, no error storm


def test_event_flood_never_makes_a_subscriber_lag(tango_servers):
    """Acceptance 5: the device pushes as fast as it can; a slow subscriber (5 ms per
    update) keeps getting the newest values, ends with the last one soon after the
    flood, and the drops show in info()."""
    server = tango_servers("db")
    dev = device(server)
    address = server.address(dev, "counter")
    n = 60_000
    seen: list[tuple[float, float]] = []  # (value, when the callback got it)

    def slow(reading):
        seen.append((reading.value, time.monotonic()))
        time.sleep(0.005)

    start = ctlshell.get(address).value
    with ctlshell.monitor(address, slow) as sub:
        wait_for(lambda: seen, 5, "the first update")
        push = ctlshell.command(server.address(dev, "->StartPush"))
        done = ctlshell.command(server.address(dev, "->PushDone"))
        push([n, 0])
        wait_for(done, 60, "the device to finish pushing")
        finished = time.monotonic()
        wait_for(lambda: seen[-1][0] == start + n, 10, "the newest value")
        newest_after = seen[-1][1] - finished
        meta = ctlshell.info(address)
    values = [v for v, _ in seen]
    assert values == sorted(values)  # newest first never: order kept through every drop
    assert len(values) < n / 2  # a 5 ms subscriber cannot have taken them all ...
    assert sub.dropped > 0 and meta.dropped >= sub.dropped  # ... and the drops are counted, in info too
    assert meta.updates.startswith("change events")
    # the last value reached the slow subscriber within its own pace, not after a backlog
    # (a queue of 60 000 values at 5 ms each: 300 s)
    assert newest_after < 10.0, f"the newest value arrived {newest_after:.2f} s after the flood"
    print(f"flood: {n} pushed, {len(values)} delivered, {sub.dropped} dropped by the subscriber queue, "
          f"newest value {newest_after * 1000:.0f} ms after the flood; {meta.updates}")


EXIT_SCRIPT = """
import sys, time
import ctlshell
address, polled, kill_pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
subs = [ctlshell.monitor(address, lambda r: None), ctlshell.monitor(polled, lambda r: None)]
time.sleep(0.5)
ctlshell.get(address)
if kill_pid:
    import os, signal
    os.kill(kill_pid, signal.SIGKILL)  # the server dies under live subscriptions
    time.sleep(1.5)
print("exiting", flush=True)
"""


@pytest.mark.parametrize("server_alive", [True, False])
def test_interpreter_exits_promptly_with_live_subscriptions(tango_servers, server_alive):
    """No thread of the Tango backend keeps a script from ending (no shutdown() called)."""
    import subprocess

    from ctlshell.testing import child_command, tango_env

    server = tango_servers("nodb")
    dev = device(server)
    pid = 0 if server_alive else server.proc.pid
    started = time.monotonic()
    proc = subprocess.run(child_command("-c", EXIT_SCRIPT, server.address(dev, "double_scalar"),
                                        server.address(dev, "noevent_double"), str(pid)),
                          env=tango_env(None), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "exiting" in proc.stdout, proc.stderr
    assert time.monotonic() - started < 20, "the interpreter took long to exit"
    assert "Traceback" not in proc.stderr and "failed" not in proc.stderr, proc.stderr  # a clean close


def test_monitor_started_before_its_server_connects_when_it_comes(caplog, capfd):
    """A scientist may open the shell first: the monitor waits quietly (no reading, no
    message: not one per connection attempt), then gets the value."""
    import logging
    import uuid

    from ctlshell.testing import TangoServer

    uid = uuid.uuid4().hex[:8]
    server = TangoServer(f"t{uid}", {f"test/ctl{uid}/dev": "CtlTestDevice"})
    address = server.address(f"test/ctl{uid}/dev", "double_scalar")
    seen: list = []
    try:
        capfd.readouterr()
        with caplog.at_level(logging.DEBUG, logger="ctlshell"), \
                ctlshell.monitor(address, seen.append, policy=KeepLast(10)):
            time.sleep(3.0)  # several connection attempts (one per ping period)
            assert seen == []  # nothing to show yet ...
            # ... and no error storm: nothing logged at INFO or above, nothing printed
            loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
            assert loud == [], f"{len(loud)} messages while the server was not there: {loud[:3]}"
            out, err = capfd.readouterr()
            assert out == "" and err == "", (out, err)
            server.start()
            wait_for(lambda: seen and seen[-1].value == 1.5, 10, "the value once the server runs")
    finally:
        server.close()
    assert all(r.connected for r in seen)
