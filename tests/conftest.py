"""Test-wide set-up: a loopback-only EPICS environment with ports of this run's own.

libca reads EPICS_CA_ADDR_LIST once per process (and p4p EPICS_PVA_ADDR_LIST once per
client context), so every server this run may start gets its port now: the in-process
hosted servers, small pools for IOC and p4p subprocesses, and the embedded Tango
database. Nothing searches beyond 127.0.0.1.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile

from ctlshell.testing import free_port, loopback_env

HOST_PORT = free_port()
IOC_PORTS: list[int] = []
for _ in range(3):
    IOC_PORTS.append(free_port(avoid=[HOST_PORT, HOST_PORT + 1, *IOC_PORTS, *(p + 1 for p in IOC_PORTS)]))

# PV Access: the hosted server (TCP port, UDP search port + 1) and a pool for p4p servers
# and gateways in subprocesses; clients search all of their UDP ports
_taken = [HOST_PORT, HOST_PORT + 1, *IOC_PORTS, *(p + 1 for p in IOC_PORTS)]
PVA_HOST_PORT = free_port(avoid=_taken)
PVA_PORTS: list[int] = []
for _ in range(3):
    _taken += [PVA_HOST_PORT, PVA_HOST_PORT + 1, *PVA_PORTS, *(p + 1 for p in PVA_PORTS)]
    PVA_PORTS.append(free_port(avoid=_taken))
PVA_SEARCH = [p + 1 for p in (PVA_HOST_PORT, *PVA_PORTS)]

os.environ.update(loopback_env(ca_server_port=HOST_PORT, ca_search_ports=[HOST_PORT, *IOC_PORTS],
                               pva_server_port=PVA_HOST_PORT, pva_search_ports=PVA_SEARCH))
# Tango: cppTango reads TANGO_HOST once per process, so the embedded database of this
# run gets its port now (started on first use); a TANGO_HOST from outside never counts
TANGO_DB_PORT = free_port(avoid=[*_taken, *PVA_PORTS, *PVA_SEARCH])
os.environ["TANGO_HOST"] = f"127.0.0.1:{TANGO_DB_PORT}"
os.environ["CTLSHELL_TIMEOUT"] = "5"
# scans keep their scan_id in a file: this run's own, removed at exit (never the user's)
_SCANS_DIR = tempfile.mkdtemp(prefix="ctlshell-test-scans-")
os.environ["CTLSHELL_SCANS_MD"] = os.path.join(_SCANS_DIR, "scans.json")
atexit.register(shutil.rmtree, _SCANS_DIR, True)

# Ctrl-C: a suite started as a background job of a script (`make test &`, a stress
# driver) inherits SIGINT ignored, and so would every shell and server the tests start;
# the tests of Ctrl-C would then see nothing happen. A user's terminal delivers it, so
# the suite does too: Python's own handler here, the default in every child.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
