"""Test-wide set-up: a loopback-only EPICS environment with ports of this run's own.

libca reads EPICS_CA_ADDR_LIST once per process, so every CA server this run may
start gets its port now: the in-process hosted server and a small pool for IOC
subprocesses; so does the embedded Tango database. Nothing searches beyond 127.0.0.1.
"""

from __future__ import annotations

import os

from ctlshell.testing import free_port, loopback_env

HOST_PORT = free_port()
IOC_PORTS: list[int] = []
for _ in range(3):
    IOC_PORTS.append(free_port(avoid=[HOST_PORT, HOST_PORT + 1, *IOC_PORTS, *(p + 1 for p in IOC_PORTS)]))

os.environ.update(loopback_env(ca_server_port=HOST_PORT, ca_search_ports=[HOST_PORT, *IOC_PORTS]))
# Tango: cppTango reads TANGO_HOST once per process, so the embedded database of this
# run gets its port now (started on first use); a TANGO_HOST from outside never counts
TANGO_DB_PORT = free_port(avoid=[HOST_PORT, HOST_PORT + 1, *IOC_PORTS, *(p + 1 for p in IOC_PORTS)])
os.environ["TANGO_HOST"] = f"127.0.0.1:{TANGO_DB_PORT}"
os.environ["CTLSHELL_TIMEOUT"] = "5"
