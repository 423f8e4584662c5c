"""A running gateway: :class:`Gateway` starts, watches and stops the p4p.gw process.

Knows how to run a process and read its log; what the gateway does is p4p's, and its
configuration is :class:`GatewayConfig`'s (or a site's own JSON file).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..core import CtlshellError, ValidationError, stop_process
from ._config import GatewayConfig
from ._runner import READY

__all__ = ["Gateway", "GatewayError"]

#: Status PVs p4p.gw serves under its status prefix.
STATUS_SUFFIXES = ("cache", "clients", "stats", "refs", "StatsTime")


class GatewayError(CtlshellError, RuntimeError):
    """The gateway process did not start or stopped by itself; the message has its log."""


class Gateway:
    """A p4p PVA gateway in a process of its own.

    Parameters
    ----------
    config : GatewayConfig or str or Path
        Settings, or the path of a p4p.gw JSON file written for a site.
    status_period : float
        Seconds between updates of the status PVs.
    sweep_period : float
        Seconds between sweeps of the gateway's channel cache.
    """

    def __init__(self, config: GatewayConfig | str | Path, *,
                 status_period: float = 5.0, sweep_period: float = 30.0) -> None:
        if not isinstance(config, (GatewayConfig, str, Path)):
            raise ValidationError(f"config must be a GatewayConfig or a file path, not {type(config).__name__}")
        if not (status_period > 0 and sweep_period > 0):
            raise ValidationError("status_period and sweep_period must be positive")
        if not isinstance(config, GatewayConfig) and not Path(config).is_file():
            raise ValidationError(f"no gateway configuration file {str(config)!r}")
        self.config = config
        self.status_period = float(status_period)
        self.sweep_period = float(sweep_period)
        self._dir: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path: str | None = None
        #: exit status of the last run (None while running or never started)
        self.returncode: int | None = None

    # -- facts ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def status_prefix(self) -> str:
        if isinstance(self.config, GatewayConfig):
            return self.config.status_prefix
        servers = json.loads(Path(self.config).read_text()).get("servers", [])
        return next((s["statusprefix"] for s in servers if "statusprefix" in s), "")

    @property
    def server_port(self) -> int | None:
        """The TCP port its server side listens on (None for a site's configuration file)."""
        return self.config.server_port if isinstance(self.config, GatewayConfig) else None

    def summary(self) -> str:
        """One line: where it searches, where it serves, its status PVs."""
        c = self.config
        if isinstance(c, GatewayConfig):
            where = (f"searches {' '.join(c.upstream)}, serves {' '.join(c.interfaces)} port {c.server_port} "
                     f"(search port {c.broadcast_port}){', read-only' if c.read_only else ''}")
        else:
            where = f"configured by {c}"
        status = f"; status PVs {self.status_prefix}*" if self.status_prefix else ""
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"gateway {state}: {where}{status}"

    def status_names(self) -> list[str]:
        """Names of the status PVs (read them as ``pva://NAME``)."""
        prefix = self.status_prefix
        return [prefix + s for s in STATUS_SUFFIXES] if prefix else []

    def log(self) -> str:
        """What the gateway process has printed so far."""
        if self._log_path is None or not os.path.exists(self._log_path):
            return ""
        with open(self._log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self, timeout: float = 20.0) -> Gateway:
        """Start the gateway process; return once it serves.

        Raises
        ------
        GatewayError
            The process exited or did not become ready within ``timeout``.
        """
        if self.running:
            return self
        self.returncode = None
        self._dir = self._dir or tempfile.mkdtemp(prefix="ctlshell-gw-")
        if isinstance(self.config, GatewayConfig):
            path = os.path.join(self._dir, "gateway.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(self.config.to_json(), f, indent=1)
        else:
            path = str(Path(self.config).resolve())
        self._log_path = os.path.join(self._dir, "gateway.log")
        offset = os.path.getsize(self._log_path) if os.path.exists(self._log_path) else 0
        cmd = [sys.executable, "-m", "ctlshell.gateway._runner", path, "--status-period", str(self.status_period),
               "--sweep-period", str(self.sweep_period), "--parent", str(os.getpid())]
        with open(self._log_path, "ab") as log:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout
        while READY not in self.log()[offset:]:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise GatewayError(f"the gateway exited with {code}:\n{self.log()[offset:][-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise GatewayError(f"the gateway did not start within {timeout} s:\n{self.log()[offset:][-2000:]}")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the gateway (its clients see their channels disconnect). Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self.returncode = stop_process(proc, timeout, signal.SIGINT)

    def restart(self, timeout: float = 20.0) -> Gateway:
        self.stop()
        return self.start(timeout)

    def close(self) -> None:
        """Stop and remove the gateway's temporary files."""
        self.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        if isinstance(self.config, GatewayConfig):
            where = f"{self.config.upstream} -> {self.config.interfaces}:{self.config.server_port}"
        else:
            where = str(self.config)
        return f"<Gateway {where} {state}>"
