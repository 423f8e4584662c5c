"""Two ``ctlshell serve`` on one CA port (loopback, a port of the test's own): both are
found through a broadcast search, and the second says in one line that the port is
taken and which names the first already serves."""

from __future__ import annotations

import subprocess

from ctlshell.testing import child_command, free_port, loopback_env
from ctlshell.testing._process import ServerProcess

READ = "import epics, sys; print([epics.caget(n, timeout=10) for n in sys.argv[1:]])"


class Serve(ServerProcess):
    def start(self, env: dict[str, str], *args: str) -> Serve:
        self._spawn(["-m", "ctlshell.cli", "serve", *args], env, "ready", 60)
        return self


def test_a_second_server_on_the_port_reports_the_taken_port_and_the_names_served_twice():
    port = free_port()
    pva = free_port(avoid=[port, port + 1])
    env = loopback_env(ca_server_port=port, ca_search_ports=[port], pva_server_port=pva)
    first = Serve("ctlshell-share-").start(env, "ctlshell.examples.oven:Oven", "--prefix", "SHARE:", "--no-pva")
    second = Serve("ctlshell-share-").start(env, "ctlshell.examples.oven:Oven", "--prefix", "SHARE:", "--no-pva")
    other = Serve("ctlshell-share-").start(env, "ctlshell.examples.motor:Motor", "--prefix", "SHAREM:", "--no-pva")
    try:
        assert "is taken" not in first.output() and "also served by" not in first.output()
        lines = second.output().splitlines()
        taken = [x for x in lines if f"CA port {port} is taken" in x]
        clash = [x for x in lines if "also served by" in x]
        assert len(taken) == 1 and len(clash) == 1, second.output()
        assert "SHARE:SETPOINT" in clash[0] and clash[0].count("\n") == 0
        assert not [x for x in other.output().splitlines() if "also served by" in x], other.output()
        # a libca client searching loopback's broadcast address on that port finds all three
        client = {**env, "EPICS_CA_ADDR_LIST": f"127.255.255.255:{port}"}
        done = subprocess.run(child_command("-c", READ, "SHARE:SETPOINT", "SHAREM:RBV"), env=client,
                              capture_output=True, text=True, timeout=60)
        assert done.stdout.strip() == "[295.0, 0.0]", done.stdout + done.stderr
        second.close()
        first.close()  # the other server of the port is still found
        done = subprocess.run(child_command("-c", READ, "SHAREM:RBV"), env=client,
                              capture_output=True, text=True, timeout=60)
        assert done.stdout.strip() == "[0.0]", done.stdout + done.stderr
    finally:
        for proc in (other, second, first):
            proc.close()
