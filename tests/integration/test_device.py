"""Acceptance 2 of hosted devices, and the pull queue: a device thread pushing 10 000
values/s keeps the server answering, its circular buffer stays at its size, and a
client's put-with-callback completes only when the device says the action is done."""

from __future__ import annotations

import json
import statistics
import threading
import time

import pytest

import ctlshell
from ctlshell import ValidationError
from ctlshell.examples.motor import Motor
from ctlshell.host import Device, DevicePV

from .conftest import Background, pyepics


class Burst(Device):
    """Pushes RATE values/s of a counter for SECONDS, keeping each in its buffer."""

    RATE, SECONDS = 10_000, 3.0
    buffer_size = 2000
    VALUE = DevicePV(0.0)
    OTHER = DevicePV(1.5, units="mm")

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix)
        self.go = threading.Event()
        self.sizes: list[int] = []
        self.sent = 0

    def run(self) -> None:
        self.go.wait()
        start = time.monotonic()
        while not self.stopping.is_set():
            elapsed = time.monotonic() - start
            if elapsed >= self.SECONDS:
                break
            due = int(elapsed * self.RATE)
            while self.sent < due:
                self.sent += 1
                self.buffer.append(self.sent)
                self.push(VALUE=float(self.sent))
            self.sizes.append(len(self.buffer))
            time.sleep(0.001)


@pytest.fixture
def hosted_objects():
    started = []

    def host(obj):
        started.append(ctlshell.host(obj))
        return obj

    yield host
    for obj in started:
        ctlshell.unhost(obj)


def test_push_burst_keeps_server_answering_and_buffer_bounded(prefix, hosted_objects):
    device = hosted_objects(Burst(prefix))
    nbytes = device.buffer.nbytes
    watcher = Background("count", prefix + "VALUE", "4")
    watcher.wait_ready()
    device.go.set()
    got = pyepics("gets", prefix + "OTHER", "12")  # during the 3 s burst
    counted = watcher.result()
    durations = got["durations"]
    # the server keeps answering during the 3 s burst: the median get well under 100 ms
    # (~2 ms idle), none near the burst's length (a server busy with the burst answers after it)
    assert statistics.median(durations) < 0.1 and max(durations) < 1.5, durations
    assert device.sent >= 0.9 * Burst.RATE * Burst.SECONDS
    assert max(device.sizes) == device.buffer.size == 2000 and device.buffer.nbytes == nbytes
    assert list(device.buffer.last(3)) == [device.sent - 2, device.sent - 1, device.sent]
    # every value was pushed or counted as dropped, and the PV ended on the newest
    deadline = time.monotonic() + 3
    while ctlshell.get(f"local://{prefix}VALUE").value != device.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ctlshell.get(f"ca://{prefix}VALUE").value == device.sent
    assert device.pushed == device.sent
    assert counted["last"] == device.sent and counted["n"] > 10
    print(f"gets during burst: median {statistics.median(durations) * 1e3:.1f} ms, "
          f"max {max(durations) * 1e3:.1f} ms; monitor saw {counted['n']} updates; dropped {device.push_dropped}")


def test_put_callback_completes_when_the_move_is_done(prefix, hosted_objects):
    hosted_objects(Motor(prefix))
    got = pyepics("putcb", prefix + "VAL", "1.0")  # 1 mm at 2 mm/s
    assert got["ok"], got
    assert got["elapsed"] >= 0.4, got
    assert ctlshell.get(f"ca://{prefix}RBV").value == pytest.approx(1.0)
    assert ctlshell.get(f"ca://{prefix}MOVN").value == 0
    assert [(e.pv, e.old, e.new) for e in ctlshell.journal(prefix + "VAL")] == [(prefix + "VAL", 0.0, 1.0)]


def test_a_readback_read_right_after_a_move_completes_is_the_new_position(prefix, hosted_objects):
    """What a scan does at every point: put with completion, then read the readback. The
    completion must not overtake the readback's last update (found as scans recording the
    previous point's position under load)."""
    motor = hosted_objects(Motor(prefix))
    ctlshell.put(f"ca://{prefix}VELO", 10.0, wait=True)
    targets = [round(0.25 * i, 2) for i in range(1, 41)]  # 40 moves of 25 ms each
    pairs = pyepics("moves", prefix + "VAL", prefix + "RBV", json.dumps(targets))
    stale = [(t, rbv) for t, rbv in pairs if abs(rbv - t) > 1e-9]
    assert stale == [], f"{len(stale)} of {len(pairs)} reads gave an older position: {stale[:5]}"
    assert motor.stats()["position"] == targets[-1]


def test_direct_write_acts_at_once_during_a_move(prefix, hosted_objects):
    motor = hosted_objects(Motor(prefix))
    mover = Background("putcb", prefix + "VAL", "9.0")  # 4.5 s at 2 mm/s
    time.sleep(1.0)
    assert ctlshell.get(f"ca://{prefix}MOVN").value == 1
    got = pyepics("putcb", prefix + "STOP", '"Stop"')
    assert got["ok"] and got["elapsed"] < 3.0, got  # at once, not at the end of the 4.5 s move
    moved = mover.result()
    assert moved["ok"] and moved["elapsed"] < 4.0, moved  # the stop ended the move early
    stopped_at = ctlshell.get(f"ca://{prefix}RBV").value
    assert 0.5 < stopped_at < 9.0
    time.sleep(0.3)
    assert ctlshell.get(f"ca://{prefix}RBV").value == stopped_at
    assert ctlshell.get(f"ca://{prefix}STOP").value == 0  # reads back "Go"
    assert motor.get("VAL") == pytest.approx(stopped_at)


class Picky(Device):
    LEVEL = DevicePV(1.0, limits=(0, 10), writable=True)
    write_timeout = 0.5

    def handle(self, request):
        if request.value > 5:
            request.fail("level above 5 needs the shutter closed")
        elif request.value == 4:
            pass  # never answers: the client gets a timeout error
        else:
            request.done()


def test_device_refusal_and_silence_reach_the_client_and_change_nothing(prefix, hosted_objects):
    hosted_objects(Picky(prefix))
    name = prefix + "LEVEL"
    assert pyepics("putcb", name, "2.0")["ok"]
    for value in ("7.0", "4.0", "11.0"):  # refused by the device, unanswered, beyond the limits
        got = pyepics("putcb", name, value)
        assert not got["ok"] and got["readback"] == 2.0, got
    with pytest.raises(ctlshell.CtlshellError, match="shutter closed"):
        ctlshell.put(f"local://{name}", 6.0)
    assert ctlshell.get(f"local://{name}").value == 2.0
    assert [e.new for e in ctlshell.journal(name)] == [2.0]


def test_bad_declarations_are_clear(prefix):
    class Empty(Device):
        pass

    with pytest.raises(ValidationError, match="declares no DevicePV"):
        Empty(prefix)

    class NoMethod(Device):
        X = DevicePV(0.0, writable=True, direct=True)

    with pytest.raises(ValidationError, match="write_X"):
        ctlshell.host(NoMethod(prefix))
    assert prefix + "X" not in ctlshell.hosted()
    with pytest.raises(KeyError, match="no PV attribute 'Y'"):
        Burst(prefix).push(Y=1)


def test_push_queue_is_bounded_and_counts_what_it_dropped(prefix):
    class Tiny(Device):
        push_queue_size = 10
        X = DevicePV(0)

    device = Tiny(prefix)  # not started: nothing drains the queue
    for n in range(25):
        device.push(X=n)
    assert device.pushed == 25 and device.push_dropped == 15
    ctlshell.host(device)
    try:
        deadline = time.monotonic() + 3
        while ctlshell.get(f"local://{prefix}X").value != 24 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ctlshell.get(f"local://{prefix}X").value == 24  # the newest survived
    finally:
        ctlshell.unhost(device)


def test_stopping_a_device_and_a_daemon_leaves_no_threads(prefix, no_leaks):
    from ctlshell.examples.oven import Oven

    motor = ctlshell.host(Motor(prefix + "M:"))
    oven = ctlshell.host(Oven(prefix + "O:"))
    assert pyepics("putcb", prefix + "O:SETPOINT", "296")["ok"]  # a worker thread ran req_set
    assert pyepics("putcb", prefix + "M:VELO", "3")["ok"]  # a direct write ran on a worker
    ctlshell.unhost(motor)
    ctlshell.unhost(oven)
    assert not [n for n in ctlshell.hosted() if n.startswith(prefix)]
