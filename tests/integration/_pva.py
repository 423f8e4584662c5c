"""Helpers of the PV Access tests: the p4p client in another process, and p4p servers
as subprocesses on ports of the run's pool (loopback only)."""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
from pathlib import Path
from typing import Any

from ctlshell.testing import IocProcess, child_command, loopback_env

from ..conftest import PVA_PORTS, PVA_SEARCH
from .conftest import Background

P4P_CLIENT = Path(__file__).with_name("p4p_client.py")
P4P_SERVER = Path(__file__).with_name("p4p_server.py")
_pool = itertools.cycle(PVA_PORTS)


def next_pool_port() -> int:
    """A PVA server port ctlshell's client searches (its UDP port is the next one)."""
    return next(_pool)


def client_env() -> dict[str, str]:
    """What an independent p4p client uses: every search port of this run, loopback only."""
    return loopback_env(pva_search_ports=PVA_SEARCH)


def p4p(*args: str, timeout: float = 60.0) -> Any:
    """Run the p4p client in another process; returns its JSON answer."""
    proc = subprocess.run(child_command(str(P4P_CLIENT), *args), env=client_env(), capture_output=True,
                          text=True, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("@@")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"p4p client failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return json.loads(lines[-1][2:])


class P4pBackground(Background):
    """A p4p monitor in another process, started in the background."""

    def __init__(self, *args: str) -> None:  # same reader as the pyepics one, another client
        self.proc = subprocess.Popen(child_command(str(P4P_CLIENT), *args), env=client_env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.ready = threading.Event()
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()


class P4pServer(IocProcess):
    """``p4p_server.py PREFIX`` as a subprocess on one PVA port; restartable on the same port.

    Parameters
    ----------
    prefix : str
    port : int
        TCP port; the UDP search port is ``port + 1``.
    """

    def __init__(self, prefix: str, port: int) -> None:
        super().__init__([str(P4P_SERVER), prefix], port, ready_text="@@ready")

    def start(self, timeout: float = 20.0) -> P4pServer:
        import os
        import time

        offset = os.path.getsize(self.log_path)
        env = loopback_env(pva_server_port=self.port)
        self.proc = subprocess.Popen(child_command(*self.args), env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"p4p server exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            if self.ready_text in self.output()[offset:]:
                return self
            time.sleep(0.02)
        self.stop()
        raise TimeoutError(f"p4p server not ready within {timeout} s:\n{self.output()[-3000:]}")

    def send(self, line: str) -> None:
        """A command on the server's stdin (``post NAME VALUE``)."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        super().stop(timeout)
