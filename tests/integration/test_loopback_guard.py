"""Issue 21, acceptance 5: a hosted server configured for loopback answers nothing from
another host; configured for that host's interface, it serves it.

Two network namespaces of the test's own joined by one veth pair (192.0.2.1/24 in the
server's, 192.0.2.2/24 in the client's; nothing leaves the machine). ``ctlshell serve``
runs in the first with no EPICS variable (loopback by default), CA (pyepics) and PVA
(p4p) clients in the second search both the server's address and the broadcast
address, and try its TCP ports directly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ctlshell.testing import NetNamespace, NsProcess, netns_available, no_epics_env

pytestmark = pytest.mark.skipif(bool(netns_available()), reason=netns_available() or "")

CTLSHELL = str(Path(sys.executable).with_name("ctlshell"))
SERVER = "192.0.2.1"

CLIENT = """
import json, socket, sys
from p4p.client.thread import Context
import epics
out = {}
pv = epics.PV("G:SETPOINT", connection_timeout=4)
out["ca"] = pv.get(timeout=4) if pv.wait_for_connection(4) else None
ctx = Context("pva")
try:
    out["pva"] = float(ctx.get("G:SETPOINT", timeout=4))
except Exception as exc:
    out["pva"] = None
ctx.close()
for port in (5064, 5075):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((sys.argv[1], port))
        out[f"tcp{port}"] = "open"
    except OSError as exc:
        out[f"tcp{port}"] = type(exc).__name__
    finally:
        s.close()
print("RESULT " + json.dumps(out), flush=True)
"""


@pytest.fixture
def hosts():
    server, client = NetNamespace.pair(f"{SERVER}/24", "192.0.2.2/24")
    try:
        yield server, client
    finally:
        server.close()
        client.close()


def probe(client) -> dict:
    env = no_epics_env(EPICS_CA_ADDR_LIST=SERVER, EPICS_PVA_ADDR_LIST=SERVER)  # plus the automatic broadcast lists
    done = client.python("-c", CLIENT, SERVER, env=env, timeout=120)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line is not None, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(line[len("RESULT "):])


LISTEN = """
import socket
s = socket.create_server(("0.0.0.0", 7000))
print("listening", flush=True)
s.accept()[0].sendall(b"hello")
"""


def test_the_two_hosts_reach_each_other(hosts):
    server, client = hosts
    listener = NsProcess(server).start("-c", LISTEN, env=no_epics_env(), ready_text="listening")
    try:
        done = client.python("-c", f"import socket; print(socket.create_connection(('{SERVER}', 7000), 5).recv(5))",
                             env=no_epics_env())
        assert "b'hello'" in done.stdout, done.stderr
    finally:
        listener.close()


def test_a_loopback_server_answers_nothing_from_another_host(hosts):
    server, client = hosts
    serve = NsProcess(server).start(CTLSHELL, "serve", "ctlshell.examples.oven:Oven", "--prefix", "G:",
                                    env=no_epics_env(), ready_text="ready")
    try:
        local = [line.split()[3] for line in server.run("ss", "-lnt").stdout.splitlines()[1:]]
        assert local and all(a.startswith("127.0.0.1:") for a in local), local  # TCP on loopback only
        result = probe(client)
        assert result == {"ca": None, "pva": None, "tcp5064": "ConnectionRefusedError",
                          "tcp5075": "ConnectionRefusedError"}, result
    finally:
        serve.close()


def test_configuring_the_interface_serves_the_other_host(hosts):
    server, client = hosts
    serve = NsProcess(server).start(CTLSHELL, "serve", "ctlshell.examples.oven:Oven", "--prefix", "G:",
                                    "--interface", SERVER, env=no_epics_env(), ready_text="ready")
    try:
        result = probe(client)
        assert result["ca"] == 295.0 and result["pva"] == 295.0, result
        assert result["tcp5064"] == "open" and result["tcp5075"] == "open", result
    finally:
        serve.close()
