"""A real IOC as a subprocess: start, wait until it answers, stop, restart on the same port."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence

from ._env import child_command, loopback_env

__all__ = ["IocProcess"]


class IocProcess:
    """Run ``python -m MODULE ARGS`` (a caproto example IOC, or any script) on one port.

    Parameters
    ----------
    args : sequence of str
        Arguments after ``python``, e.g. ``["-m", "caproto.ioc_examples.simple", "--prefix", "X:"]``.
    port : int
        Its CA server port (searches from clients go to ``127.0.0.1:port``).
    ready_text : str
        Text in its output that says it is serving.
    """

    def __init__(self, args: Sequence[str], port: int, ready_text: str = "Server startup complete") -> None:
        self.args = list(args)
        self.port = port
        self.ready_text = ready_text
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="ctlshell-ioc-", suffix=".log", delete=False)
        self.log_path = self._log.name

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def start(self, timeout: float = 20.0) -> IocProcess:
        offset = os.path.getsize(self.log_path)
        env = loopback_env(ca_server_port=self.port)
        self.proc = subprocess.Popen(child_command(*self.args), env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"IOC exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            if self.ready_text in self.output()[offset:]:
                return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"IOC not ready within {timeout} s:\n{self.output()[-3000:]}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._log.close()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass

    def __enter__(self) -> IocProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
