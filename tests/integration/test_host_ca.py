"""Acceptance 2 (and the hosting contract): PVs hosted by ctlshell, checked by pyepics
(libca) in another process."""

from __future__ import annotations

import time

import numpy as np
import pytest

import ctlshell
from ctlshell import Severity, ValidationError

from .conftest import Background, pyepics



def test_types_metadata_alarm_and_timestamp_agree(hosted, prefix):
    stamp = 1_700_000_000.125
    d = hosted("D", 1.5, units="mm", precision=3, limits=(-10, 10), alarm_limits=(-5, 5), writable=True)
    d.publish(7.25, timestamp=stamp)  # beyond the alarm limit: MAJOR, HIHI
    hosted("L", 42, units="counts", limits=(0, 1000))
    hosted("S", "hello beamline")
    hosted("E", "Closed", enum=["Open", "Closed", "Moving"], writable=True)
    hosted("W", np.linspace(0, 1, 100), units="V")

    got = pyepics("describe", *(prefix + n for n in "DLSEW"))
    d_, l_, s_, e_, w_ = (got[prefix + n] for n in "DLSEW")

    assert d_["type"] == "time_double" or d_["type"] == "double"
    assert d_["value"] == 7.25 and d_["units"] == "mm" and d_["precision"] == 3
    assert (d_["lower_ctrl_limit"], d_["upper_ctrl_limit"]) == (-10, 10)
    assert d_["severity"] == int(Severity.MAJOR)
    assert d_["timestamp"] == pytest.approx(stamp, abs=1e-6)
    assert d_["write_access"] is True

    assert l_["type"].endswith("long") and l_["value"] == 42 and l_["units"] == "counts"
    assert l_["write_access"] is False  # hosted read-only by default
    assert s_["type"].endswith("string") and s_["value"] == "hello beamline"
    assert e_["type"].endswith("enum") and e_["value"] == 1 and e_["enum_strs"] == ["Open", "Closed", "Moving"]
    assert w_["type"].endswith("double") and w_["count"] == 100
    assert w_["value"] == pytest.approx(np.linspace(0, 1, 100).tolist())


def test_pyepics_put_reaches_handle_and_out_of_limit_put_is_refused(hosted, prefix):
    pv = hosted("SP", 1.0, limits=(0, 10), writable=True)
    heard = []
    pv.on_write(heard.append)

    assert pyepics("put", prefix + "SP", "4.5", "wait")["ok"]
    assert pv.value == 4.5
    assert [r.value for r in heard] == [4.5]

    refused = pyepics("put", prefix + "SP", "99.0", "wait")
    assert not refused["ok"]
    assert pv.value == 4.5 and len(heard) == 1
    after = pyepics("describe", prefix + "SP")[prefix + "SP"]
    assert after["value"] == 4.5
    assert after["severity"] == 0  # a refused write leaves no alarm behind


def test_read_only_pv_refuses_client_writes_but_python_can_set_it(hosted, prefix):
    pv = hosted("RO", 3)
    assert not pyepics("put", prefix + "RO", "5", "wait")["ok"]
    assert pv.value == 3
    pv.value = 6
    assert pyepics("describe", prefix + "RO")[prefix + "RO"]["value"] == 6


def test_setting_value_publishes_to_a_pyepics_monitor(hosted, prefix):
    pv = hosted("MON", 0.0)
    mon = Background("monitor", prefix + "MON", "3")
    mon.wait_ready()
    time.sleep(0.3)
    for v in (1.0, 2.0, 3.0):
        pv.value = v
        time.sleep(0.1)
    values = [u["value"] for u in mon.result()]
    assert values[0] == 0.0 and values[-3:] == [1.0, 2.0, 3.0]


def test_enum_accepts_choice_or_index_and_refuses_others(hosted, prefix):
    pv = hosted("SH", 0, enum=["Open", "Closed"], writable=True)
    pv.value = "Closed"
    assert pv.value == 1
    with pytest.raises(ValidationError, match="not one of"):
        pv.value = "Ajar"
    assert pv.value == 1
    assert pyepics("put", prefix + "SH", "0", "wait")["ok"]
    assert pv.value == 0


def test_pvs_added_and_removed_while_serving(hosted, prefix):
    first = hosted("A1", 1.0)
    assert pyepics("describe", prefix + "A1")[prefix + "A1"]["value"] == 1.0
    hosted("A2", 2.0)  # the server is already running
    assert pyepics("describe", prefix + "A2")[prefix + "A2"]["value"] == 2.0
    first.remove()
    assert prefix + "A1" not in ctlshell.hosted()
    with pytest.raises(ctlshell.ChannelTimeoutError):
        ctlshell.get(f"ca://{prefix}A1", timeout=1)
    with pytest.raises(ctlshell.CtlshellError, match="no longer hosted"):
        first.value = 5.0  # a removed PV takes no values


def test_bad_host_arguments_raise_and_host_nothing(prefix):
    before = ctlshell.hosted()
    with pytest.raises(ValidationError):
        ctlshell.host(prefix + "X", {"a": 1})
    with pytest.raises(ValidationError, match="outside the control limits"):
        ctlshell.host(prefix + "Y", 50.0, limits=(0, 10))
    with pytest.raises(ValidationError):
        ctlshell.host(prefix + "Z", 1.0, limits=(10, 0))
    with pytest.raises(ctlshell.CtlshellError):
        ctlshell.host("bad name with spaces", 1.0)
    assert ctlshell.hosted() == before


def test_a_loopback_server_beacons_to_loopback_only_and_libca_stays_quiet():
    """Hosting with only the client's loopback settings: caproto beacons to 127.0.0.1
    alone, the beacon settings it needed are gone from the environment afterwards, and
    libca in the same process prints no 'Duplicate EPICS CA Address list entry'."""
    import os
    import subprocess
    import uuid

    from ctlshell.testing import child_command, free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPICS_")}
    env.update(EPICS_CA_ADDR_LIST=f"127.0.0.1:{port}", EPICS_CA_AUTO_ADDR_LIST="NO",
               EPICS_CA_SERVER_PORT=str(port), EPICS_CAS_INTF_ADDR_LIST="127.0.0.1",
               EPICS_CA_REPEATER_PORT=str(port + 1), EPICS_CAS_BEACON_PORT=str(port + 1), CTLSHELL_SERVE_PVA="no")
    name = f"B{uuid.uuid4().hex[:6]}:X"
    code = (
        "import os, ctlshell\n"
        "from ctlshell.api import session\n"
        f"ctlshell.configure(ca_server_port={port})\n"
        f"ctlshell.host({name!r}, 1.5)\n"
        f"print('@@', ctlshell.get('ca://{name}').value, sorted(session()._ca_server._ctx.beacon_socks),"
        " sorted(k for k in os.environ if 'BEACON_ADDR' in k))\n"
        "ctlshell.shutdown()\n")
    proc = subprocess.run(child_command("-c", code), env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("@@"))
    assert line == f"@@ 1.5 [('127.0.0.1', {port + 1})] []"
    assert "Duplicate" not in proc.stdout + proc.stderr


def _ca_circuit(port):
    """A bare CA client circuit over a plain socket (caproto's protocol objects)."""
    import socket

    import caproto as ca

    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    circuit = ca.VirtualCircuit(ca.CLIENT, ("127.0.0.1", port), 0)
    _send(sock, circuit, ca.VersionRequest(priority=0, version=13), ca.HostNameRequest("test"),
          ca.ClientNameRequest("test"))
    return sock, circuit


def _send(sock, circuit, *commands):
    sock.sendall(b"".join(circuit.send(*commands)))


def _next_reply(sock, circuit, kind, timeout=3.0):
    import socket

    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        commands, _ = circuit.recv(data)
        for command in commands:
            circuit.process_command(command)
            if isinstance(command, kind):
                return command
    raise AssertionError(f"no {kind.__name__} within {timeout} s")


@pytest.mark.parametrize("late", ["clear", "read", "read-at-once"])
def test_a_request_crossing_a_removal_does_not_take_the_clients_connection_down(hosted, prefix, late):
    """A client's clear or read of a channel whose PV was just removed (it crossed the
    server's disconnect) is answered or ignored; the same connection keeps working for
    other PVs (caproto alone ends the connection's command loop and hangs them all)."""
    import caproto as ca

    from ctlshell.api import session

    gone = hosted("GONE", 1.0)
    hosted("STAYS", 2.0)
    sock, circuit = _ca_circuit(session()._ca_server.port)
    try:
        _send(sock, circuit, ca.CreateChanRequest(prefix + "GONE", 1, 13))
        sid = _next_reply(sock, circuit, ca.CreateChanResponse).sid
        gone.remove()
        if late != "read-at-once":  # else the read races the removal on the server
            _next_reply(sock, circuit, ca.ServerDisconnResponse)
        # sent as if before the client had read the disconnect (not through its state machine)
        late_request = (ca.ClearChannelRequest(sid, 1) if late == "clear"
                        else ca.ReadNotifyRequest(ca.ChannelType.DOUBLE, 1, sid, 7))
        sock.sendall(bytes(late_request))
        _send(sock, circuit, ca.CreateChanRequest(prefix + "STAYS", 2, 13))
        stays = _next_reply(sock, circuit, ca.CreateChanResponse)
        _send(sock, circuit, ca.ReadNotifyRequest(ca.ChannelType.DOUBLE, 1, stays.sid, 8))
        assert _next_reply(sock, circuit, ca.ReadNotifyResponse).data[0] == 2.0
    finally:
        sock.close()
    assert ctlshell.get(f"ca://{prefix}STAYS").value == 2.0
