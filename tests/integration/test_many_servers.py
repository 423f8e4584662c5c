"""Issue 14, acceptance 3: many CA servers on one host are all found, as EPICS IOCs are.

In a network namespace of the test's own (``lo`` plus a veth pair inside, 192.0.2.0/24;
see test_found_without_setup.py), with no EPICS variable for the ctlshell processes:
the shell with the demo, two ``ctlshell serve`` and a pythonSoftIOC, all on the
standard CA port 5064. pyepics in a fourth process (searching loopback's broadcast
address, the usual setting for a libca client on a loopback setup) and ctlshell
(nothing set) both read a PV of each; one server stopped and started again is found
again while the others stay found. A name served twice and a taken CA port are each
reported by ``serve`` in one line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ctlshell.testing import NetNamespace, NsProcess, netns_available, no_epics_env

pytestmark = pytest.mark.skipif(bool(netns_available()), reason=netns_available() or "")

HERE = Path(__file__).resolve().parent
CTLSHELL = str(Path(sys.executable).with_name("ctlshell"))
SOFTIOC = str(HERE / "softioc_flood.py")

#: one PV of each server
PVS = {"shell": "DEMO:MOTOR.RBV", "oven": "OVEN:SETPOINT", "motor": "M1:RBV", "softioc": "SOFT:COUNT"}

PYEPICS = """
import json, sys, epics
values = {}
for name in sys.argv[1:]:
    pv = epics.PV(name, connection_timeout=10)
    values[name] = pv.get(timeout=10) if pv.wait_for_connection(10) else None
print("VALUES " + json.dumps(values), flush=True)
"""

CTLSHELL_READ = """
import json, sys, ctlshell
values = {}
for name in sys.argv[1:]:
    try:
        values[name] = float(ctlshell.get(name, timeout=10).value)
    except Exception as exc:
        values[name] = f"{type(exc).__name__}: {exc}"
print("VALUES " + json.dumps(values), flush=True)
"""


def values(done) -> dict:
    line = next((line for line in done.stdout.splitlines() if line.startswith("VALUES ")), None)
    assert line is not None, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(line[len("VALUES "):])


@pytest.fixture
def host(tmp_path):
    """The namespace with its four servers, stopped by PID at the end."""
    with NetNamespace() as ns:
        env = no_epics_env(IPYTHONDIR=str(tmp_path / "ipython"))
        servers: dict[str, NsProcess] = {}

        def serve(key: str, target: str, prefix: str) -> NsProcess:
            servers[key] = NsProcess(ns).start(CTLSHELL, "serve", target, "--prefix", prefix, env=env,
                                               ready_text="ready")
            return servers[key]

        try:
            servers["shell"] = NsProcess(ns).start(
                CTLSHELL, "--profile", "demo", "-c", "import time; print('shell ready', flush=True); time.sleep(3600)",
                env=env, ready_text="shell ready")
            serve("oven", "ctlshell.examples.oven:Oven", "OVEN:")
            servers["softioc"] = NsProcess(ns).start(SOFTIOC, "SOFT:", "3600", "0", env=env,
                                                     ready_text="Server startup complete")
            serve("motor", "ctlshell.examples.motor:Motor", "M1:")
            yield ns, env, servers, serve
        finally:
            for proc in servers.values():
                proc.close()


def read_all(ns, env, names):
    pyepics = values(ns.python("-c", PYEPICS, *names, env={**env, "EPICS_CA_ADDR_LIST": "127.255.255.255"},
                               timeout=120))
    ours = values(ns.python("-c", CTLSHELL_READ, *names, env=env, timeout=120))
    return pyepics, ours


def test_every_server_on_the_host_is_found_by_pyepics_and_ctlshell(host):
    ns, env, servers, serve = host
    listening = ns.run("ss", "-lnu").stdout
    assert listening.count(":5064 ") >= 4  # all of them share the CA search port
    pyepics, ours = read_all(ns, env, list(PVS.values()))
    for name in PVS.values():
        assert isinstance(pyepics[name], float), (name, pyepics)
        assert isinstance(ours[name], float), (name, ours)
    assert pyepics["OVEN:SETPOINT"] == ours["OVEN:SETPOINT"] == 295.0


def test_a_server_stopped_and_started_again_is_found_and_the_others_stay_found(host):
    ns, env, servers, serve = host
    servers["oven"].close()
    others = [PVS["shell"], PVS["motor"], PVS["softioc"]]
    pyepics, ours = read_all(ns, env, others)
    assert all(isinstance(pyepics[n], float) for n in others), pyepics
    assert all(isinstance(ours[n], float) for n in others), ours
    serve("oven", "ctlshell.examples.oven:Oven", "OVEN:")
    pyepics, ours = read_all(ns, env, list(PVS.values()))
    assert all(isinstance(pyepics[n], float) for n in PVS.values()), pyepics
    assert all(isinstance(ours[n], float) for n in PVS.values()), ours


def test_serve_says_in_one_line_that_the_port_is_shared_and_which_names_are_served_twice(host):
    ns, env, servers, serve = host
    # the oven and the motor started after the shell: CA port 5064 was taken
    notes = [line for line in servers["motor"].output().splitlines() if "CA port 5064 is taken" in line]
    assert len(notes) == 1 and "TCP port" in notes[0]
    twice = serve("oven2", "ctlshell.examples.oven:Oven", "OVEN:")
    clash = [line for line in twice.output().splitlines() if "also served by" in line]
    assert len(clash) == 1 and "OVEN:SETPOINT" in clash[0], twice.output()
    assert not [line for line in servers["motor"].output().splitlines() if "also served by" in line]


def test_the_demo_shell_finds_the_other_servers_of_the_host(host):
    ns, env, servers, serve = host
    # the README's case: the demo shell, then `ctlshell serve ... --prefix OVEN:` beside it
    cell = "\n".join(f"print('{key}', get('{name}').value)" for key, name in PVS.items() if key != "shell")
    done = ns.run(CTLSHELL, "--profile", "demo", "-c", cell, env=env, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    found = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.split(" ")[0] in PVS)
    assert set(found) == {"oven", "motor", "softioc"}, done.stdout + done.stderr
    assert float(found["oven"]) == 295.0


def test_an_ioc_of_this_host_answering_twice_is_not_reported_but_two_servers_of_one_name_are(host):
    ns, env, servers, serve = host
    # the softIOC listens on every interface: it answers through 127.255.255.255 and 192.0.2.255
    done = ns.python("-c", CTLSHELL_READ, PVS["softioc"], env=env, timeout=120)
    assert isinstance(values(done)[PVS["softioc"]], float)
    assert "Identical process variable names" not in done.stderr, done.stderr
    serve("oven2", "ctlshell.examples.oven:Oven", "OVEN:")  # a second server of OVEN: names
    done = ns.python("-c", CTLSHELL_READ, "OVEN:SETPOINT", env=env, timeout=120)
    assert values(done)["OVEN:SETPOINT"] == 295.0
    assert "Identical process variable names on multiple servers" in done.stderr, done.stderr
