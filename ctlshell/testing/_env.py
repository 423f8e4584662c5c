"""Loopback-only EPICS environments and free ports.

Every server and client a test starts gets :func:`loopback_env`: searches,
beacons and PVA broadcasts stay on 127.0.0.1, on ports of the test's own.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import sys
from collections.abc import Iterable, Mapping

__all__ = ["child_command", "free_port", "loopback_env"]


def _port_free(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port(avoid: Iterable[int] = (), low: int = 20000, high: int = 32000) -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (and not in ``avoid``).

    Chosen below Linux's ephemeral range (32768-60999): a server binds its port some
    time after it was picked, and a port from that range could meanwhile be handed
    to any client socket of another process (a suite running side by side, say).
    """
    taken = set(avoid)
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(low, high)
        if port not in taken and port + 1 not in taken and _port_free(port):
            return port
    raise OSError("no free port found on 127.0.0.1")


def loopback_env(ca_server_port: int | None = None, ca_search_ports: Iterable[int] = (),
                 pva_server_port: int | None = None, base: Mapping[str, str] | None = None,
                 pva_search_ports: Iterable[int] = ()) -> dict[str, str]:
    """An environment whose EPICS traffic stays on 127.0.0.1.

    Parameters
    ----------
    ca_server_port : int, optional
        The port a CA server in this environment listens on.
    ca_search_ports : iterable of int
        Ports of the CA servers a client in this environment searches
        (``EPICS_CA_ADDR_LIST`` gets ``127.0.0.1:PORT`` for each).
    pva_server_port : int, optional
        TCP port of a PVA server in this environment; its UDP search port is the next one.
    pva_search_ports : iterable of int
        UDP search ports of the PVA servers a client in this environment searches
        (``EPICS_PVA_ADDR_LIST`` gets ``127.0.0.1:PORT`` for each).
    base : mapping, optional
        Environment to start from (``os.environ`` by default).
    """
    env = dict(os.environ if base is None else base)
    ports = list(ca_search_ports)
    env.update({
        "EPICS_CA_AUTO_ADDR_LIST": "NO",
        "EPICS_CA_ADDR_LIST": " ".join(f"127.0.0.1:{p}" for p in ports) or "127.0.0.1",
        "EPICS_CAS_INTF_ADDR_LIST": "127.0.0.1",
        "EPICS_CAS_AUTO_BEACON_ADDR_LIST": "NO",
        "EPICS_CAS_BEACON_ADDR_LIST": "127.0.0.1",
        "EPICS_PVA_AUTO_ADDR_LIST": "NO",
        "EPICS_PVA_ADDR_LIST": "127.0.0.1",
        "EPICS_PVAS_INTF_ADDR_LIST": "127.0.0.1",
        "EPICS_PVAS_AUTO_BEACON_ADDR_LIST": "NO",
        "EPICS_PVAS_BEACON_ADDR_LIST": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    })
    pva_ports = list(pva_search_ports)
    if pva_ports:
        env["EPICS_PVA_ADDR_LIST"] = " ".join(f"127.0.0.1:{p}" for p in pva_ports)
    if ca_server_port is not None:
        env["EPICS_CA_SERVER_PORT"] = str(ca_server_port)
        env["EPICS_CAS_SERVER_PORT"] = str(ca_server_port)
        # a repeater/beacon port of our own keeps beacons off the standard 5065
        # (libca and RSRV read EPICS_CA_REPEATER_PORT, caproto EPICS_CAS_BEACON_PORT)
        env["EPICS_CA_REPEATER_PORT"] = str(ca_server_port + 1)
        env["EPICS_CAS_BEACON_PORT"] = str(ca_server_port + 1)
    if pva_server_port is not None:
        env["EPICS_PVA_SERVER_PORT"] = env["EPICS_PVAS_SERVER_PORT"] = str(pva_server_port)
        env["EPICS_PVA_BROADCAST_PORT"] = env["EPICS_PVAS_BROADCAST_PORT"] = str(pva_server_port + 1)
    return env


def child_command(*args: str) -> list[str]:
    """``python ARGS`` as a child process, without real-time privileges when we are root.

    As root, the EPICS C libraries (libca, RSRV, pvxs) make their threads SCHED_FIFO and
    softioc locks all its memory; on a 2-core machine that starves everything else.
    Dropping CAP_SYS_NICE and CAP_IPC_LOCK makes a child behave as for a normal user.
    """
    cmd = [sys.executable, *args]
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv:
        cmd = [setpriv, "--inh-caps", "-sys_nice,-ipc_lock", "--bounding-set", "-sys_nice,-ipc_lock", *cmd]
    return cmd
