"""A monitor table: many addresses, one row each with value, severity, time,
connection state and the delivered / dropped counters of its bounded queue."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence

import ipywidgets as w

from ..core import Reading, Severity
from ._format import SEVERITY_COLOURS, state_of, value_text
from ._live import Live, canonical

__all__ = ["MonitorTable"]


class MonitorTable(Live):
    """A live table of ``addresses``.

    Parameters
    ----------
    addresses : sequence of str
    fps : float
        Refresh cap (default 5 a second).

    Raises
    ------
    AddressError, NotFoundError, ChannelTimeoutError
        Any address bad or unknown; nothing is subscribed.
    """

    def __init__(self, addresses: Sequence[str], *, fps: float = 5.0) -> None:
        super().__init__(fps)
        self.addresses = canonical(addresses)
        self.metadata = self._metadata(self.addresses)
        self._latest: dict[str, Reading] = {}
        self.widget = w.HTML(self.html())
        self.widget.add_class("ctlshell-monitor-table")
        for a in self.addresses:
            self._subscribe(a, self._reading_store(self._latest, a, self._mark))
        self._start()

    def rows(self) -> list[dict[str, object]]:
        """One dict per address: value text, severity, state, delivered, dropped."""
        out = []
        for a, sub in zip(self.addresses, self.subscriptions or [None] * len(self.addresses)):  # type: ignore[list-item]  # not subscribed yet
            r = self._latest.get(a)
            out.append({
                "address": a, "value": value_text(r.value if r is not None and r.connected else None,
                                                  self.metadata[a]),
                "severity": (r.severity if r is not None else Severity.DISCONNECTED).name,
                "time": time.strftime("%H:%M:%S", time.localtime(r.timestamp)) if r is not None else "",
                "state": state_of(r), "delivered": sub.delivered if sub else 0, "dropped": sub.dropped if sub else 0,
            })
        return out

    def html(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("address", "value", "severity", "time", "state",
                                                 "delivered", "dropped"))
        body = []
        for row in self.rows():
            colour = SEVERITY_COLOURS[Severity[str(row["severity"])]]
            body.append(
                f'<tr data-state="{row["state"]}"><td><code>{html.escape(str(row["address"]))}</code></td>'
                f'<td style="color:{colour};font-weight:bold">{html.escape(str(row["value"]))}</td>'
                f'<td style="color:{colour}">{row["severity"]}</td><td>{row["time"]}</td><td>{row["state"]}</td>'
                f'<td>{row["delivered"]}</td><td>{row["dropped"]}</td></tr>')
        return f"<table class='ctlshell-table'><tr>{head}</tr>{''.join(body)}</table>"

    def _frame(self) -> None:
        self.widget.value = self.html()
