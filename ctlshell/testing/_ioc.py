"""A real IOC as a subprocess: start, wait until it answers, stop, restart on the same port."""

from __future__ import annotations

import signal
from collections.abc import Sequence

from ._env import loopback_env
from ._process import ServerProcess

__all__ = ["IocProcess"]


class IocProcess(ServerProcess):
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

    stop_signal = signal.SIGINT  # what a user's Ctrl-C would send

    def __init__(self, args: Sequence[str], port: int, ready_text: str = "Server startup complete") -> None:
        super().__init__("ctlshell-ioc-")
        self.args = list(args)
        self.port = port
        self.ready_text = ready_text

    def start(self, timeout: float = 20.0) -> IocProcess:
        self._spawn(self.args, loopback_env(ca_server_port=self.port), self.ready_text, timeout)
        return self

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> IocProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
