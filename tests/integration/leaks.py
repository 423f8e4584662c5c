"""What a test leaves behind in the test process: threads, runtime tasks, sockets.

``tests/integration/conftest.py`` applies :func:`check` around every integration test
(``no_leaks``, autouse). Long-lived machinery that ctlshell starts on first use and
keeps for the session by design (the runtime thread, the delivery pool, the hosted
servers and their tasks, cached client circuits) is not a leak; everything else that
was not there before the test and is still there a few seconds after it is.

Sockets: a TCP socket of Python code in CLOSE_WAIT (its peer closed, we never did) and
a listening socket that was not there before (a server left running in the test
process) are leaks; a cached client connection is not (the channel cache keeps it by
design), nor a connection a C library keeps in its own pool (omniORB closes its idle
connections on its own schedule).
"""

from __future__ import annotations

import asyncio
import collections
import gc
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

__all__ = ["Snapshot", "leaks", "snapshot"]

#: Threads ctlshell and its libraries start once and keep for the session.
SESSION_THREADS = re.compile(
    r"^(MainThread|Dummy-\d+|ctlshell-runtime|ctlshell-deliver-(\d+|watch)|ctlshell-background_\d+"
    r"|ctlshell-proxy-callbacks_\d+"  # the proxies' one callback thread (module-level pool)
    r"|ctlshell-tango(_\d+|-pump|-supervisor)"  # the session's Tango backend: its pool and event pump
    r"|asyncio_\d+|IPythonHistorySavingThread)$")

#: Runtime tasks that live as long as a hosted server (caproto's server context and a
#: circuit per connected client, ctlshell's cached client to it) or the channel cache.
SESSION_TASKS = re.compile(r"^ctlshell-ca-server \(|^_?Context\.|^\w*Circuit\.|[Ss]weep")


@dataclass
class Snapshot:
    threads: dict[int, str] = field(default_factory=dict)
    tasks: collections.Counter[str] = field(default_factory=collections.Counter)
    listening: set[tuple[str, int]] = field(default_factory=set)
    close_wait: set[tuple[tuple[str, int], tuple[str, int]]] = field(default_factory=set)


def _task_name(task: asyncio.Task) -> str:
    coro = task.get_coro()
    qualname = getattr(coro, "__qualname__", None) or type(coro).__name__
    name = task.get_name()
    return qualname if name.startswith("Task-") else f"{name} ({qualname})"


def snapshot(run_on_loop: Callable[[], list[str] | None]) -> Snapshot:
    """Threads, runtime tasks (``run_on_loop()`` lists them, None if no runtime) and sockets now."""
    snap = Snapshot(threads={t.ident or 0: t.name for t in threading.enumerate()})
    snap.tasks = collections.Counter(run_on_loop() or [])
    python_fds: set[int] | None = None
    for conn in psutil.Process().net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN:
            snap.listening.add((conn.laddr.ip, conn.laddr.port))
        elif conn.status == psutil.CONN_CLOSE_WAIT and conn.raddr:
            if python_fds is None:
                python_fds = _python_socket_fds()
            if conn.fd in python_fds:  # C libraries (omniORB, libca, pvxs) scavenge their own
                snap.close_wait.add(((conn.laddr.ip, conn.laddr.port), (conn.raddr.ip, conn.raddr.port)))
    return snap


def _python_socket_fds() -> set[int]:
    """File descriptors of the socket objects Python code holds (asyncio transports, caproto, tests)."""
    fds = set()
    for obj in gc.get_objects():
        if isinstance(obj, socket.socket):
            try:
                fds.add(obj.fileno())
            except OSError:
                pass
    return fds


def leaks(before: Snapshot, after: Snapshot) -> list[str]:
    """What ``after`` holds that ``before`` did not, beyond the session's own machinery."""
    found = []
    threads = sorted(name for ident, name in after.threads.items()
                     if ident not in before.threads and not SESSION_THREADS.match(name))
    if threads:
        found.append(f"threads left running: {', '.join(threads)}")
    tasks = sorted(name for name in (after.tasks - before.tasks).elements() if not SESSION_TASKS.search(name))
    if tasks:
        found.append(f"runtime tasks left pending: {', '.join(tasks)}")
    listening = sorted(after.listening - before.listening)
    if listening:
        found.append("servers left listening in the test process: "
                     + ", ".join(f"{ip}:{port}" for ip, port in listening))
    close_wait = sorted(after.close_wait - before.close_wait)
    if close_wait:
        found.append("sockets never closed after their peer went (CLOSE_WAIT): "
                     + ", ".join(f"{a[0]}:{a[1]}->{b[0]}:{b[1]}" for a, b in close_wait))
    return found


def wait_for_no_leaks(before: Snapshot, take: Callable[[], Snapshot], grace: float = 3.0) -> list[str]:
    """Leaks still there after ``grace`` seconds (threads and tasks may be finishing)."""
    deadline = time.monotonic() + grace
    while True:
        found = leaks(before, take())
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
