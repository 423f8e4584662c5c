"""``%nxwrite monitor``: record a step on every update of some channels, at most
``rate`` steps per second, until stopped.

Each step's JSON record carries the newest value of every monitored channel as a
CLIENT value named by its address (``"ca://BL:DET"``), and ``<name>/timestamp`` and
``<name>/severity`` beside it; the writer's configuration picks what it stores. Updates
between two steps are coalesced (the newest wins) and counted.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .. import api
from ..core import CtlshellError, Reading
from ._client import WriterClient

__all__ = ["RecordMonitor"]


class RecordMonitor:
    """Subscribes to ``addresses`` and records through its own client of ``device``.

    Attributes
    ----------
    records : int
        Steps written.
    coalesced : int
        Updates that arrived between two steps and were folded into the next one.
    errors : list of str
        Refused records (bounded to the last 20); recording goes on after one.
    """

    def __init__(self, device: str, addresses: list[str], rate: float = 10.0) -> None:
        if not addresses:
            raise CtlshellError("%nxwrite monitor needs at least one address")
        if not 0 < rate <= 1000:
            raise CtlshellError(f"rate must be between 0 and 1000 steps/s, not {rate}")
        self.addresses = list(addresses)
        self.period = 1.0 / rate
        self.client = WriterClient(device)
        self.records = 0
        self.coalesced = 0
        self.errors: list[str] = []
        self._latest: dict[str, Reading] = {}
        self._fresh = False
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="ctlshell-nxwrite-monitor", daemon=True)
        self._subs = []
        try:
            for a in self.addresses:
                self._subs.append(api.monitor(a, self._on_reading))
        except BaseException:
            self.stop()
            raise
        self._thread.start()

    def _on_reading(self, reading: Reading) -> None:
        if not reading.connected:
            return
        with self._cond:
            if self._fresh:
                self.coalesced += 1
            self._latest[reading.address] = reading
            self._fresh = True
            self._cond.notify()

    def _run(self) -> None:
        last = 0.0
        while True:
            with self._cond:
                while not self._stop and not (self._fresh and len(self._latest) == len(self.addresses)):
                    self._cond.wait(0.5)
                if self._stop:
                    return
                due = last + self.period
                while not self._stop and time.monotonic() < due:  # the rate cap: an update's notify
                    self._cond.wait(due - time.monotonic())      # must not end the wait early
                if self._stop:
                    return
                data: dict[str, Any] = {}
                for addr, r in self._latest.items():
                    data[addr] = r.value
                    data[f"{addr}/timestamp"] = r.timestamp
                    data[f"{addr}/severity"] = int(r.severity)
                self._fresh = False
            last = time.monotonic()
            try:
                self.client.record(data)
                self.records += 1
            except CtlshellError as exc:
                self.errors = [*self.errors[-19:], str(exc)]

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> int:
        """Stop recording (idempotent); returns the number of steps written."""
        for sub in self._subs:
            sub.close()
        self._subs = []
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(10)
        return self.records

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (f"<nxwrite monitor {state}: {', '.join(self.addresses)}; {self.records} records, "
                f"{self.coalesced} updates coalesced, {len(self.errors)} refused>")
