"""A CA PV removed and hosted again -- a notebook cell that hosts it, run again -- is
read at once by this process, an open monitor of it follows the new one within 2 s,
and a pyepics client in another process reconnects by itself (libca's disconnect
governor: up to 10 s, measured here; docs/guide/hosting.md)."""

from __future__ import annotations

import threading
import time

import ctlshell
from ctlshell import Severity

from .conftest import Background


def _host_read_remove(name: str) -> None:
    first = ctlshell.host(name, 1.0, writable=True)
    assert ctlshell.get(f"ca://{name}").value == 1.0  # this process's CA client has a channel of it
    first.remove()


def test_a_pv_hosted_again_is_read_over_ca_within_a_second(prefix):
    name = f"{prefix}X"
    _host_read_remove(name)
    again = ctlshell.host(name, 3.0, writable=True, units="mm")
    try:
        started = time.monotonic()
        reading = ctlshell.get(f"ca://{name}", timeout=1.0)  # libca alone: ChannelTimeoutError for up to 10 s
        elapsed = time.monotonic() - started
        assert reading.value == 3.0 and elapsed < 1.0
        assert ctlshell.info(f"ca://{name}").units == "mm"  # the new PV's metadata, not the first's
    finally:
        again.remove()


class _Seen:
    """What a monitor's callback got, with a way to wait for a value."""

    def __init__(self) -> None:
        self.readings: list[tuple[float, object, Severity]] = []
        self._changed = threading.Condition()

    def __call__(self, reading: ctlshell.Reading) -> None:
        with self._changed:
            self.readings.append((time.monotonic(), reading.value, reading.severity))
            self._changed.notify_all()

    def wait_for(self, value: object, timeout: float) -> float | None:
        """Monotonic time the value first arrived, or None."""
        with self._changed:
            self._changed.wait_for(lambda: any(v == value for _, v, _ in self.readings), timeout)
            return next((t for t, v, _ in self.readings if v == value), None)


def test_an_open_monitor_sees_the_pv_hosted_again_within_two_seconds(prefix):
    name = f"{prefix}M"
    first = ctlshell.host(name, 1.0, writable=True)
    seen = _Seen()
    sub = ctlshell.monitor(f"ca://{name}", seen)
    again = None
    try:
        assert seen.wait_for(1.0, 10.0) is not None
        first.remove()
        # at once, not waiting for the client to see the removal: the cell run again
        again = ctlshell.host(name, 5.0, writable=True)
        hosted_at = time.monotonic()
        arrived = seen.wait_for(5.0, 15.0)
        assert arrived is not None, f"the monitor never saw the PV hosted again: {seen.readings}"
        assert arrived - hosted_at < 2.0, f"the monitor saw it after {arrived - hosted_at:.1f} s"
        again.value = 6.0  # and it stays live on the new PV
        assert seen.wait_for(6.0, 5.0) is not None
    finally:
        sub.close()
        if again is not None:
            again.remove()


def test_a_monitor_after_the_removal_was_seen_follows_within_two_seconds(prefix):
    name = f"{prefix}D"
    first = ctlshell.host(name, 1.0, writable=True)
    seen = _Seen()
    sub = ctlshell.monitor(f"ca://{name}", seen)
    again = None
    try:
        assert seen.wait_for(1.0, 10.0) is not None
        first.remove()
        deadline = time.monotonic() + 10
        while not any(s is Severity.DISCONNECTED for _, _, s in seen.readings) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert any(s is Severity.DISCONNECTED for _, _, s in seen.readings), "no disconnect was reported"
        again = ctlshell.host(name, 7.0, writable=True)
        hosted_at = time.monotonic()
        arrived = seen.wait_for(7.0, 15.0)
        assert arrived is not None and arrived - hosted_at < 2.0, seen.readings
    finally:
        sub.close()
        if again is not None:
            again.remove()


def test_a_pyepics_client_of_another_process_reconnects_to_the_pv_hosted_again(prefix):
    name = f"{prefix}P"
    first = ctlshell.host(name, 1.0, writable=True)
    client = Background("monitor", name, "22")
    again = None
    try:
        client.wait_ready()
        first.remove()
        time.sleep(0.2)
        again = ctlshell.host(name, 9.0, writable=True)
        hosted_at = time.time()
        seen = client.result()
    finally:
        if again is not None:
            again.remove()
    back = [u["t"] for u in seen if u["value"] == 9.0]
    assert back, f"pyepics never saw the PV hosted again: {seen}"
    # libca searches again for a channel its server disconnected when its disconnect
    # governor fires (every 10 s), not sooner; the bound leaves room for a loaded machine
    waited = back[0] - hosted_at
    print(f"pyepics in another process reconnected after {waited:.1f} s")
    assert waited < 18.0
