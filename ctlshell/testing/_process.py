"""A server as a subprocess with a log file of its own: :class:`ServerProcess`.

Started with :func:`child_command` (no real-time privileges), ready once a given
text appears in its output, stopped by its own PID only (a signal, then SIGKILL if it
hangs). The base of the IOC, Tango database and Tango device-server helpers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence

from ..core import stop_process
from ._env import child_command

__all__ = ["ServerProcess"]


class ServerProcess:
    """One server subprocess and its log file.

    Parameters
    ----------
    prefix : str
        Prefix of the log file's name.
    """

    #: The signal :meth:`stop` sends first.
    stop_signal: int = signal.SIGTERM

    def __init__(self, prefix: str) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix=prefix, suffix=".log", delete=False)  # noqa: SIM115 (the child's log, open while it runs)
        self.log_path = self._log.name

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def _spawn(self, args: list[str], env: dict[str, str], ready_text: str, timeout: float,
               cwd: str | None = None, launcher: Sequence[str] = ()) -> None:
        """Start ``python ARGS`` (behind ``launcher``, e.g. ``nsenter ... --``) and wait until
        ``ready_text`` appears in its new output."""
        offset = os.path.getsize(self.log_path)
        self.proc = subprocess.Popen([*launcher, *child_command(*args)], env=env, cwd=cwd, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{args[:3]} exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            if ready_text in self.output()[offset:]:
                return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"{args[:3]} not ready within {timeout} s:\n{self.output()[-3000:]}")

    def stop(self, timeout: float = 10.0) -> None:
        """``stop_signal`` (a clean exit), SIGKILL if it hangs."""
        self._end(self.stop_signal, timeout)

    def kill(self) -> None:
        """SIGKILL: the server vanishes as in a crash."""
        self._end(signal.SIGKILL, 10.0)

    def _end(self, sig: int, timeout: float) -> None:
        stop_process(self.proc, timeout, sig)
        self.proc = None

    def close(self) -> None:
        """Stop and remove the log file. Idempotent."""
        self.stop()
        self._log.close()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass
