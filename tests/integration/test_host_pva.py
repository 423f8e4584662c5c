"""Acceptance 1 and 2 of PV Access: PVs hosted by ctlshell, checked by a p4p client in
another process (and p4p's own command line), and written across CA and PVA."""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

import ctlshell
from ctlshell import Severity
from ctlshell.api import session
from ctlshell.testing import child_command

from ._pva import P4pBackground, client_env, p4p
from .conftest import Background, pyepics



def test_p4p_client_reads_value_metadata_alarm_and_timestamp(hosted, prefix):
    stamp = 1_700_000_000.125
    d = hosted("D", 1.5, units="mm", precision=3, limits=(-10, 10), alarm_limits=(-5, 5),
               warning_limits=(-2, 2), writable=True, doc="slit gap")
    d.publish(7.25, timestamp=stamp)  # beyond the alarm limit: MAJOR, HIHI
    hosted("L", 42, units="counts")
    hosted("S", "hello beamline")
    hosted("E", "Closed", enum=["Open", "Closed", "Moving"], writable=True)
    hosted("W", np.linspace(0, 1, 100), units="V")

    got = p4p("describe", *(prefix + n for n in "DLSEW"))
    d_, l_, s_, e_, w_ = (got[prefix + n] for n in "DLSEW")

    assert d_["id"] == "epics:nt/NTScalar:1.0" and d_["value"] == 7.25
    assert d_["display"]["units"] == "mm" and d_["display"]["precision"] == 3
    assert d_["display"]["description"] == "slit gap"
    assert (d_["control"]["limitLow"], d_["control"]["limitHigh"]) == (-10, 10)
    assert (d_["valueAlarm"]["lowAlarmLimit"], d_["valueAlarm"]["highAlarmLimit"]) == (-5, 5)
    assert (d_["valueAlarm"]["lowWarningLimit"], d_["valueAlarm"]["highWarningLimit"]) == (-2, 2)
    assert d_["alarm"]["severity"] == int(Severity.MAJOR) and d_["alarm"]["message"] == "HIHI"
    ts = d_["timeStamp"]
    assert ts["secondsPastEpoch"] + ts["nanoseconds"] * 1e-9 == pytest.approx(stamp, abs=1e-6)

    assert l_["value"] == 42 and l_["display"]["units"] == "counts"
    assert s_["value"] == "hello beamline"
    assert e_["id"] == "epics:nt/NTEnum:1.0" and e_["value"] == {"index": 1, "choices": ["Open", "Closed", "Moving"]}
    assert w_["id"] == "epics:nt/NTScalarArray:1.0" and w_["value"] == pytest.approx(np.linspace(0, 1, 100).tolist())

    # the same PV over CA carries the same value, alarm and timestamp
    ca = pyepics("describe", prefix + "D")[prefix + "D"]
    assert ca["value"] == 7.25 and ca["severity"] == int(Severity.MAJOR)
    assert ca["timestamp"] == pytest.approx(stamp, abs=1e-6)


def test_a_pva_client_connecting_after_writes_nobody_watched_gets_the_newest(hosted, prefix):
    """With no PVA client connected a PV is posted nothing; a client's connect opens it
    with the PV's current reading, and a client arriving after the last one left does too."""
    import threading

    pv = hosted("IDLE", 0.0, alarm_limits=(-5, 5))
    stamp = 1_700_000_123.5
    for v in range(1, 200):
        pv.value = float(v) / 10  # nobody on PVA: nothing posted
    pv.publish(7.5, timestamp=stamp)  # MAJOR (HIHI)
    got = p4p("describe", prefix + "IDLE")[prefix + "IDLE"]
    assert got["value"] == 7.5 and got["alarm"]["severity"] == int(Severity.MAJOR)
    ts = got["timeStamp"]
    assert ts["secondsPastEpoch"] + ts["nanoseconds"] * 1e-9 == pytest.approx(stamp, abs=1e-6)

    # a monitor's first value is the newest, then every write while it stays
    mon = P4pBackground("monitor", prefix + "IDLE", "2.0")
    mon.wait_ready()
    time.sleep(0.2)
    pv.value = 1.0
    pv.value = 2.0
    assert [u["value"] for u in mon.result() if "value" in u] == [7.5, 1.0, 2.0]

    # written while clients come and go (each read a fresh context): never older than before
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        while not stop.is_set():
            written[0] += 1
            pv.value = float(written[0])
            time.sleep(0.001)

    t = threading.Thread(target=writer)
    t.start()
    try:
        seen = [r["value"] for r in p4p("reads", prefix + "IDLE", "5")]
    finally:
        stop.set()
        t.join()
    assert seen == sorted(seen) and seen[0] >= 1.0, seen
    assert p4p("reads", prefix + "IDLE", "1")[0]["value"] == float(written[0])  # the last write


def test_p4p_command_line_get(hosted, prefix):
    hosted("CLI", 12.5, units="A")
    proc = subprocess.run(child_command("-m", "p4p.client.cli", "-w", "10", "get", prefix + "CLI"),
                          env=client_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert prefix + "CLI" in proc.stdout and "12.5" in proc.stdout


def test_p4p_puts_are_validated_like_ca_puts(hosted, prefix):
    pv = hosted("SP", 1.0, limits=(0, 10), units="mm", writable=True)
    heard = []
    pv.on_write(heard.append)

    ok = p4p("put", prefix + "SP", "4.5")
    assert ok["ok"] and ok["readback"] == 4.5 and pv.value == 4.5
    assert [r.value for r in heard] == [4.5]

    refused = p4p("put", prefix + "SP", "99.0")
    assert not refused["ok"] and "outside the control limits [0.0, 10.0] mm" in refused["error"]
    assert refused["readback"] == 4.5 and pv.value == 4.5 and len(heard) == 1
    assert pv.reading.severity is Severity.NO_ALARM  # a refused write leaves no alarm behind

    wave = hosted("WV", [1.0, 2.0, 3.0], writable=True)
    too_long = p4p("put", prefix + "WV", "[1, 2, 3, 4]")
    assert not too_long["ok"] and "4 elements do not fit (at most 3)" in too_long["error"]
    assert wave.value.tolist() == [1.0, 2.0, 3.0]

    not_a_number = p4p("put", prefix + "SP", '"warm"')
    assert not not_a_number["ok"] and pv.value == 4.5

    metadata = p4p("put", prefix + "SP", '{"display.units": "km"}')
    assert not metadata["ok"] and "only the value can be written" in metadata["error"]
    assert p4p("describe", prefix + "SP")[prefix + "SP"]["display"]["units"] == "mm"

    ro = hosted("RO", 3)
    read_only = p4p("put", prefix + "RO", "5")
    assert not read_only["ok"] and "read-only" in read_only["error"] and ro.value == 3

    shutter = hosted("SH", "Open", enum=["Open", "Closed"], writable=True)
    assert p4p("put", prefix + "SH", '"Closed"')["ok"] and shutter.value == 1


def test_ca_write_seen_by_p4p_monitor_and_pva_write_seen_by_pyepics(hosted, prefix):
    pv = hosted("X", 0.0, writable=True)
    pva_mon = P4pBackground("monitor", prefix + "X", "2.5")
    ca_mon = Background("monitor", prefix + "X", "2.5")
    pva_mon.wait_ready()
    ca_mon.wait_ready()
    time.sleep(0.2)
    assert pyepics("put", prefix + "X", "1.25", "wait")["ok"]  # CA -> PVA
    assert p4p("put", prefix + "X", "2.5")["ok"]               # PVA -> CA
    pva_seen = [u["value"] for u in pva_mon.result() if "value" in u]
    ca_seen = [u["value"] for u in ca_mon.result()]
    # each write is the very next update on the other protocol: nothing lost, nothing stale
    assert pva_seen == [0.0, 1.25, 2.5]
    assert ca_seen == [0.0, 1.25, 2.5]
    assert pv.value == 2.5


def test_ctlshell_reads_its_own_pv_over_pva(hosted, prefix):
    pv = hosted("OWN", 3.5, units="K", precision=2, limits=(0, 300), writable=True)
    r = ctlshell.get(f"pva://{prefix}OWN")
    assert r.value == 3.5 and r.timestamp == pytest.approx(pv.reading.timestamp, abs=1e-6)
    meta = ctlshell.info(f"pva://{prefix}OWN")
    assert (meta.units, meta.precision, meta.control_limits) == ("K", 2, (0.0, 300.0))
    ctlshell.put(f"pva://{prefix}OWN", 42.0, wait=True)
    assert pv.value == 42.0
    with pytest.raises(ctlshell.ValidationError):
        ctlshell.put(f"pva://{prefix}OWN", 500.0)  # checked locally against the served limits
    assert pv.value == 42.0


def test_pva_switched_off_for_one_pv(hosted, prefix):
    hosted("CAONLY", 1.0, pva=False)
    hosted("BOTH", 2.0)
    assert pyepics("describe", prefix + "CAONLY")[prefix + "CAONLY"]["value"] == 1.0
    names = session().pva_server().names()
    assert prefix + "BOTH" in names and prefix + "CAONLY" not in names
    with pytest.raises(ctlshell.ChannelTimeoutError):
        ctlshell.get(f"pva://{prefix}CAONLY", timeout=0.5)


def test_removed_pv_disconnects_pva_clients(hosted, prefix):
    from .test_pva_client import Seen

    pv = hosted("GONE", 1.0)
    seen = Seen()
    with ctlshell.monitor(f"pva://{prefix}GONE", seen):
        seen.wait_for(lambda r: r.value == 1.0)
        pv.remove()
        seen.wait_for(lambda r: r.severity is Severity.DISCONNECTED)
        assert prefix + "GONE" not in session().pva_server().names()
        with pytest.raises(ctlshell.ChannelTimeoutError):
            ctlshell.get(f"pva://{prefix}GONE", timeout=0.5)


def test_a_pv_hosted_again_reaches_waiting_clients_at_once(hosted, prefix):
    """Remove a PV and host the name again (a notebook cell run twice), even with another
    type: a ctlshell monitor and a p4p monitor in another process get the new PV within
    a second, not at pvxs's next search (up to 30 s later), and PVA puts reach the new PV."""
    from .test_pva_client import Seen

    pv = hosted("AGAIN", 1.0)
    seen = Seen()
    other = P4pBackground("monitor", prefix + "AGAIN", "8")
    with ctlshell.monitor(f"pva://{prefix}AGAIN", seen):
        seen.wait_for(lambda r: r.value == 1.0)
        other.wait_ready()
        pv.remove()
        seen.wait_for(lambda r: r.severity is Severity.DISCONNECTED)
        time.sleep(2.0)  # pvxs's search interval has grown by now
        again = hosted("AGAIN", "text now", writable=True)
        t0 = time.monotonic()
        seen.wait_for(lambda r: r.value == "text now", timeout=10)
        assert time.monotonic() - t0 < 3.0  # not at pvxs's next search, seconds away by now
        ctlshell.put(f"pva://{prefix}AGAIN", "written", wait=True)
        assert again.value == "written"
    got = other.result()
    values = [s.get("value") for s in got if "value" in s]
    assert values[0] == 1.0 and "text now" in values and values[-1] == "written"


def test_ctlshell_pva_puts_keep_every_check_once_written_on_the_callers_thread(hosted, prefix):
    """After the first put (through the runtime loop, which finds the field and its limits),
    puts are written on the caller's thread: values land, client-side checks still refuse
    before sending, and a refusal by the server still reaches the caller."""
    from ctlshell.core import PutRefusedError, ValidationError

    pv = hosted("FAST", 1.0, limits=(0, 10), units="mm", writable=True)
    address = f"pva://{prefix}FAST"
    backend = session().registry.get("pva")
    for value in (2.0, 3.0, 4.5):
        ctlshell.put(address, value, wait=True)
        assert pv.value == value
    assert backend.put_now(f"{prefix}FAST", 5.0, wait=True, timeout=5.0)  # the caller's-thread path is taken
    assert pv.value == 5.0 and p4p("describe", prefix + "FAST")[prefix + "FAST"]["value"] == 5.0

    with pytest.raises(ValidationError, match="outside the control limits"):
        ctlshell.put(address, 11.0, wait=True)
    ctlshell.restrict_writes(users="nobody-here")
    try:
        with pytest.raises(PutRefusedError, match="refused"):
            ctlshell.put(address, 6.0, wait=True)
    finally:
        ctlshell.restrict_writes()
    assert pv.value == 5.0
    ctlshell.put(address, 6.0, wait=True)
    assert pv.value == 6.0
