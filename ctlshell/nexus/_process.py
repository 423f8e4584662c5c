"""Start ``ctlshell nxwriter`` as a subprocess and wait until its device answers.

Used by ``%nxwrite open`` when no ``--device`` is given, by the tests and the bench.
The server binds 127.0.0.1 on a port the system picks (read back from its first line) and runs without a Tango database.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping

from ..core import CtlshellError, stop_process

__all__ = ["WriterProcess"]

#: The server's first line names the address it serves (with the port it got).
_READY = re.compile(r"NexusWriter ready: (tango://[^:/]+:(\d+)/\S+)")


class WriterProcess:
    """A ``NexusWriter`` device server in a child process.

    Parameters
    ----------
    data_dir : str
        The only directory it writes under.
    env : mapping, optional
        The child's environment (e.g. a loopback EPICS environment for CHANNEL sources).
    port : int, optional
        Its port (by default the system picks one; :attr:`port` and :attr:`address`
        say which once :meth:`start` returns).
    """

    def __init__(self, data_dir: str, env: Mapping[str, str] | None = None, port: int | None = None) -> None:
        self.data_dir = os.path.realpath(data_dir)
        self.port = port or 0
        self.env = dict(os.environ if env is None else env)
        self.address = f"tango://127.0.0.1:{self.port}/ctlshell/nexus/writer#dbase=no"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="ctlshell-nxwriter-", suffix=".log", delete=False)  # noqa: SIM115 (the child's log, open while it runs)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def output(self) -> str:
        with open(self._log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def start(self, timeout: float = 30.0) -> WriterProcess:
        """Start the server; return once it said it is ready.

        Raises
        ------
        CtlshellError
            It exited or did not get ready in ``timeout`` seconds (its output is in the message).
        """
        cmd = [sys.executable, "-m", "ctlshell.nexus._server", "--data-dir", self.data_dir, "--port", str(self.port),
               "--nodb"]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CtlshellError(f"ctlshell nxwriter exited with {self.proc.returncode}: {self.output()[-2000:]}")
            ready = _READY.search(self.output())
            if ready:
                self.address = ready.group(1)
                self.port = int(ready.group(2))
                atexit.register(self.stop)  # a shell that exits takes its writer along (file closed)
                return self
            time.sleep(0.05)
        self.stop()
        raise CtlshellError(f"ctlshell nxwriter not ready within {timeout} s: {self.output()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL, as a crash would (the tests use it to check what survives)."""
        if self.proc is not None:
            stop_process(self.proc, 10, signal.SIGKILL)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the device closes its file), SIGKILL if it does not end; idempotent."""
        if self.proc is None:
            return
        atexit.unregister(self.stop)
        stop_process(self.proc, timeout)
        self.proc = None
        self._log.close()
        try:
            os.unlink(self._log.name)
        except OSError:
            pass

    def __enter__(self) -> WriterProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
