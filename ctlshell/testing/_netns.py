"""Network namespaces of a test's own, for checks that run with no EPICS variable set.

:class:`NetNamespace` (root only: ``unshare --net``) holds ``lo`` up plus a veth pair
whose two ends both stay inside, addressed from the documentation range 192.0.2.0/24
with their broadcast address, so that libca's and pvxs's automatic address lists
find a broadcast interface as on a workstation while nothing can leave the machine:
the host's interfaces are never visible inside. Two namespaces can instead be joined
by one veth pair (:meth:`NetNamespace.pair`): two hosts of the test's own.

Processes run inside by ``nsenter`` (which execs them, so their PID is the one the
test stops); the namespace goes away with its holder process, stopped by PID.
"""

from __future__ import annotations

import functools
import signal
import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence

from ..core import stop_process
from ._env import child_command
from ._process import ServerProcess

__all__ = ["NetNamespace", "NsProcess", "netns_available", "no_epics_env"]


@functools.lru_cache(maxsize=1)
def netns_available() -> str:
    """Why a network namespace cannot be made here ("" when it can; tried once)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [tool for tool in ("unshare", "nsenter", "ip") if shutil.which(tool) is None]
    if missing:
        return f"missing {', '.join(missing)}"
    tried = subprocess.run(["unshare", "--net", "--", "ip", "link", "set", "lo", "up"], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
    if tried.returncode != 0:
        return f"unshare --net failed: {tried.stderr.strip()[:200]}"
    return ""


def no_epics_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``base`` (``os.environ``) without any ``EPICS_*`` variable: a user who set nothing.

    Only for processes inside a :class:`NetNamespace`: outside one, their searches
    would reach the host's networks.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("EPICS_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class NetNamespace:
    """A network namespace held by a ``sleep`` process of our own.

    Parameters
    ----------
    veth : sequence of str
        Addresses (CIDR) of the two ends of a veth pair kept inside; empty: ``lo`` only.
    """

    def __init__(self, veth: Sequence[str] = ("192.0.2.1/24", "192.0.2.2/24")) -> None:
        reason = netns_available()
        if reason:
            raise OSError(f"cannot make a network namespace: {reason}")
        mine = os.readlink("/proc/self/ns/net")
        self._holder: subprocess.Popen[bytes] | None = subprocess.Popen(
            ["unshare", "--net", "--", "sleep", "infinity"], stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while os.readlink(f"/proc/{self.pid}/ns/net") == mine:
            if self._holder.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise OSError("unshare --net did not make a network namespace")
            time.sleep(0.01)
        self.run("ip", "link", "set", "lo", "up")
        if veth:
            self.run("ip", "link", "add", "ctl0", "type", "veth", "peer", "name", "ctl1")
            for name, cidr in zip(("ctl0", "ctl1"), veth):
                self.run("ip", "addr", "add", cidr, "brd", "+", "dev", name)
                self.run("ip", "link", "set", name, "up")

    @classmethod
    def pair(cls, a: str = "192.0.2.1/24", b: str = "192.0.2.2/24") -> tuple[NetNamespace, NetNamespace]:
        """Two namespaces (two hosts) joined by one veth pair: end ``a`` in the first, ``b`` in the second."""
        first, second = cls(veth=()), cls(veth=())
        try:
            first.run("ip", "link", "add", "ctl0", "type", "veth", "peer", "name", "ctl1",
                      "netns", str(second.pid))
            for ns, cidr in ((first, a), (second, b)):
                ns.run("ip", "addr", "add", cidr, "brd", "+", "dev", "ctl" + str(int(ns is second)))
                ns.run("ip", "link", "set", "ctl" + str(int(ns is second)), "up")
        except Exception:
            first.close()
            second.close()
            raise
        return first, second

    @property
    def pid(self) -> int:
        if self._holder is None:
            raise OSError("the network namespace is closed")
        return self._holder.pid

    def command(self, *cmd: str) -> list[str]:
        """``cmd`` run inside this namespace."""
        return ["nsenter", f"--net=/proc/{self.pid}/ns/net", "--", *cmd]

    def run(self, *cmd: str, env: Mapping[str, str] | None = None, timeout: float = 60.0,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` inside and wait for it (its output captured as text)."""
        done = subprocess.run(self.command(*cmd), env=None if env is None else dict(env), text=True,
                              capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and done.returncode != 0:
            raise OSError(f"{' '.join(cmd)} in the namespace failed ({done.returncode}): "
                          f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return done

    def python(self, *args: str, env: Mapping[str, str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """``python ARGS`` inside (without real-time privileges), waited for; never raises on its exit code."""
        return self.run(*child_command(*args), env=env, timeout=timeout, check=False)

    def close(self) -> None:
        """Stop the holder (by PID): the namespace and its interfaces go. Idempotent."""
        if self._holder is None:
            return
        stop_process(self._holder, 10, signal.SIGKILL)
        self._holder = None

    def __enter__(self) -> NetNamespace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NsProcess(ServerProcess):
    """``python ARGS`` as a server inside a :class:`NetNamespace`, stopped by its PID.

    Stop it before closing the namespace.
    """

    def __init__(self, ns: NetNamespace, prefix: str = "ctlshell-ns-") -> None:
        super().__init__(prefix)
        self.ns = ns

    def start(self, *args: str, env: Mapping[str, str], ready_text: str, timeout: float = 60.0) -> NsProcess:
        """Start it and wait until ``ready_text`` appears in its output."""
        self._spawn(list(args), dict(env), ready_text, timeout, launcher=self.ns.command())
        return self
