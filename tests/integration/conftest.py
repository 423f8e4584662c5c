"""Fixtures that start real servers on loopback: caproto IOCs and pythonSoftIOC as
subprocesses, ctlshell's own hosted server in-process, and pyepics clients in other
processes."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ctlshell
from ctlshell.core import stop_process
from ctlshell.testing import IocProcess, child_command, loopback_env

from . import leaks
from ..conftest import HOST_PORT, IOC_PORTS, PVA_HOST_PORT

CLIENT = Path(__file__).with_name("pyepics_client.py")
_port_cycle = itertools.cycle(IOC_PORTS)


@pytest.fixture
def prefix() -> str:
    """A PV prefix no other test uses."""
    return f"T{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def hosted(prefix):
    """``hosted(name, value, **kw)`` hosts ``prefix + name``; removed after the test."""
    handles = []

    def make(name, value, **kw):
        h = ctlshell.host(prefix + name, value, **kw)
        handles.append(h)
        return h

    yield make
    for h in handles:
        h.remove()


@pytest.fixture(scope="module")
def ip():
    """A real IPython ``InteractiveShell`` with the ctlshell extension, for a module's tests."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from ctlshell import ipython

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "ctlshell")
    yield shell
    ipython._remove(shell)  # unloading also shuts the session down: that is tested in a subprocess
    InteractiveShell.clear_instance()


def _threads_now() -> str:
    """Every thread of the test process with the innermost frames of its stack."""
    import traceback

    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        stack = "".join(traceback.format_stack(frame, limit=6))
        parts.append(f"--- {names.get(ident, ident)}\n{stack}")
    return "\n".join(parts)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test's report carries the stacks of every thread at the failure (a flake
    seen once in a stress run can be read afterwards: which delivery or loop was stuck)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        report.sections.append(("threads at the failure", _threads_now()))


@pytest.fixture(scope="session", autouse=True)
def _session_teardown() -> Iterator[None]:
    yield
    ctlshell.shutdown()


@pytest.fixture(scope="module", autouse=True)
def _collect_garbage_of_the_module() -> Iterator[None]:
    """Collect what the module left unreferenced before the next module starts.

    An object dropped without its ``close()`` (a socket, a file) warns when the garbage
    collector frees it; that happened at a random later test (an unclosed socket failed
    ``test_scale`` in a stress run). Collected here, the warning fails the module that
    left it behind, in its last test's teardown.
    """
    yield
    gc.collect()


@pytest.fixture
def ioc() -> Iterator[Callable[..., IocProcess]]:
    """Start caproto example IOCs (or any script) as subprocesses; all are stopped after the test."""
    started: list[IocProcess] = []

    def start(*args: str, ready_text: str = "Server startup complete") -> IocProcess:
        port = next(_port_cycle)
        proc = IocProcess(list(args), port, ready_text=ready_text)
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.close()


def caproto_example(name: str, prefix: str) -> tuple[str, ...]:
    return ("-m", f"caproto.ioc_examples.{name}", "--prefix", prefix, "--interfaces", "127.0.0.1", "-v")


def pyepics(*args: str, timeout: float = 60.0, ports: list[int] | None = None) -> Any:
    """Run the pyepics (libca) client in another process; returns its JSON answer."""
    env = loopback_env(ca_search_ports=ports or [HOST_PORT, *IOC_PORTS])
    proc = subprocess.run(child_command(str(CLIENT), *args), env=env, capture_output=True, text=True,
                          timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"pyepics client failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(lines[-1][2:])


class Background:
    """A pyepics client started in the background (for monitors while we act)."""

    def __init__(self, *args: str) -> None:
        env = loopback_env(ca_search_ports=[HOST_PORT, *IOC_PORTS])
        self.proc = subprocess.Popen(child_command(str(CLIENT), *args), env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.ready = threading.Event()
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@@ready"):
                self.ready.set()
            elif line.startswith("@@"):
                self._lines.append(line)

    def wait_ready(self, timeout: float = 30.0) -> None:
        if not self.ready.wait(timeout):
            self.proc.kill()
            self.result()

    def result(self, timeout: float = 60.0) -> Any:
        try:
            self.proc.wait(timeout)
        finally:
            stop_process(self.proc, 10, signal.SIGKILL)  # a monitor that overran its time
            self._reader.join(5)
            err = self.proc.stderr.read() if self.proc.stderr else ""
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
        if not self._lines:
            raise AssertionError(f"pyepics monitor gave no result: {err}")
        return json.loads(self._lines[-1][2:])


def _runtime_tasks() -> list[str] | None:
    """Names of the tasks on the session's runtime loop; None when no runtime runs (never starts one)."""
    from ctlshell.api import _sessions

    current = _sessions._session
    if current is None or not current.runtime.started:
        return None

    async def tasks() -> list[str]:
        return [leaks._task_name(t) for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    try:
        return current.runtime.call(tasks(), 5.0, "listing the runtime's tasks")
    except ctlshell.CtlshellError:  # shut down meanwhile (a test of shutdown)
        return None


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves threads, runtime tasks, listening servers or half-closed
    sockets behind in the test process (every integration test; see ``leaks.py``)."""
    before = leaks.snapshot(_runtime_tasks)
    yield
    # the session's own servers listen on the ports conftest gave them
    before.listening |= {(ip, port) for ip in ("127.0.0.1", "0.0.0.0") for port in (HOST_PORT, PVA_HOST_PORT)}
    # every ctlshell operation ends within the session timeout (CTLSHELL_TIMEOUT): what is
    # still there a second after it is left behind (an aborted scan's read runs until then)
    grace = float(os.environ.get("CTLSHELL_TIMEOUT", "5")) + 1.0
    found = leaks.wait_for_no_leaks(before, lambda: leaks.snapshot(_runtime_tasks), grace)
    assert not found, f"{request.node.nodeid} left behind:\n  " + "\n  ".join(found)


# Tango database and device servers (fixtures live in their own module)
from .tango_fixtures import tango_db, tango_server, tango_servers, tangotest  # noqa: E402,F401

__all__ = ["Background", "caproto_example", "pyepics", "sys"]
