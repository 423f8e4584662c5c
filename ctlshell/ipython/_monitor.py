"""``%pv monitor``: subscriptions whose latest readings are shown, coalesced to a rate.

A :class:`Monitor` holds one :class:`~ctlshell.core.Subscription` per address (each
with its bounded queue and drop count) and the newest reading of each. In the
terminal :func:`watch` redraws the rows in place (one line per update when output
is not a terminal) until the duration ends or Ctrl-C; in a notebook :func:`live_table`
updates one HTML table from a thread of its own while other cells run.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from .. import api
from ..core import Reading
from ._format import ANSI, alarm_text, format_value, html_table, stamp, text_table
from ._views import COLOR, META

__all__ = ["Monitor", "live_table", "watch"]

_HEAD = ["address", "value", "alarm", "time", "updates", "dropped"]


class Monitor:
    """What ``%pv monitor`` returns: the subscriptions of several addresses.

    Attributes
    ----------
    addresses : list of str
    subscriptions : list of Subscription
    latest : dict of str to Reading
        The newest reading of each address.
    """

    def __init__(self, addresses: Sequence[str], policy: Any = "latest") -> None:
        self.addresses = list(addresses)
        self.latest: dict[str, Reading] = {}
        self.counts = dict.fromkeys(self.addresses, 0)
        self.subscriptions: list[Any] = []
        self._changed = threading.Event()
        self._lock = threading.Lock()
        try:
            receivers = {a: self._receiver(a) for a in self.addresses}
            made = api.monitor_many(self.addresses, receivers, policy=policy)  # one trip for all
            self.subscriptions.extend(made.values.values())
            made.raise_first()
        except BaseException:
            self.close()  # all or nothing: no half-made monitor stays behind
            raise

    def _receiver(self, address: str) -> Any:
        def receive(reading: Reading) -> None:
            with self._lock:
                self.latest[address] = reading
                self.counts[address] += 1
            self._changed.set()
        return receive

    # -- state ---------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return all(s.closed for s in self.subscriptions)

    @property
    def dropped(self) -> int:
        return sum(s.dropped for s in self.subscriptions)

    @property
    def delivered(self) -> int:
        return sum(s.delivered for s in self.subscriptions)

    def close(self) -> None:
        """Close every subscription. Idempotent."""
        for sub in self.subscriptions:
            sub.close()
        self._changed.set()

    def wait_changed(self, timeout: float) -> bool:
        hit = self._changed.wait(timeout)
        self._changed.clear()
        return hit

    def rows(self) -> tuple[list[list[str]], list[Any]]:
        with self._lock:
            latest, counts = dict(self.latest), dict(self.counts)
        rows, sev = [], []
        for address, sub in zip(self.addresses, self.subscriptions):
            r = latest.get(address)
            value = "(waiting)" if r is None else format_value(r.value, META.get(address))
            rows.append([address, value, alarm_text(r), stamp(None if r is None else r.timestamp),
                         str(counts[address]), str(sub.dropped)])
            sev.append(None if r is None else r.severity)
        return rows, sev

    # -- display -------------------------------------------------------------------
    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        if self.closed:  # its table was on screen while it ran
            p.text(f"<Monitor of {len(self.addresses)} channel(s), closed: {self.delivered} delivered, "
                   f"{self.dropped} dropped>")
            return
        rows, sev = self.rows()
        p.text(f"Monitor (running, {self.delivered} delivered, {self.dropped} dropped; %pv unmonitor stops it)\n")
        p.text(text_table(_HEAD, rows, sev, COLOR["on"]))

    def _repr_html_(self) -> str:
        rows, sev = self.rows()
        state = "closed" if self.closed else "running"
        return f"<div>Monitor ({state})</div>" + html_table(_HEAD, rows, sev)

    def __repr__(self) -> str:
        return f"<Monitor {' '.join(self.addresses)} delivered={self.delivered} dropped={self.dropped}>"


def _paint(line: str, severity: Any) -> str:
    """``line`` in its severity's colour, when colours are on."""
    color = ANSI[severity] if COLOR["on"] and severity is not None else ""
    return f"{color}{line}\x1b[0m" if color else line


def watch(mon: Monitor, rate: float, duration: float | None, out: TextIO | None = None,
          reraise: bool = False) -> Monitor:
    """Show ``mon`` until ``duration`` seconds pass or Ctrl-C; then close it.

    In a terminal the table is redrawn in place at most ``rate`` times a second;
    otherwise each changed row is printed as a line. Ctrl-C ends the watch and
    returns normally, unless ``reraise`` (a notebook, where an interrupt must also
    stop the cells queued after this one).
    """
    interrupted = False
    out = out or sys.stdout
    inplace = bool(getattr(out, "isatty", lambda: False)())
    period = 1.0 / rate
    end = None if duration is None else time.monotonic() + duration
    drawn = 0
    shown: dict[str, tuple[str, ...]] = {}
    if duration is None:
        out.write("monitoring; Ctrl-C stops\n")

    def draw() -> None:
        nonlocal drawn
        rows, sev = mon.rows()
        if inplace:
            # cut to the terminal width: a wrapped line would break the cursor-up redraw
            width = max(20, shutil.get_terminal_size().columns - 1)
            table = [line[:width] for line in text_table(_HEAD, rows, sev).splitlines()]
            table = table[:1] + [_paint(line, s) for line, s in zip(table[1:], sev)]
            up = f"\x1b[{drawn}F" if drawn else ""
            out.write(up + "".join(f"\x1b[2K{line}\n" for line in table))
            drawn = len(table)
        else:
            for row, s in zip(rows, sev):
                key = tuple(row[:4])
                if row[1] != "(waiting)" and shown.get(row[0]) != key:
                    shown[row[0]] = key
                    out.write(_paint(f"{row[0]}  {row[1]}  {row[2]}  {row[3]}", s) + "\n")
        out.flush()

    try:
        while end is None or time.monotonic() < end:
            left = period if end is None else max(0.0, min(period, end - time.monotonic()))
            if not mon.wait_changed(left):
                continue
            draw()
            time.sleep(max(0.0, min(period, (end - time.monotonic()) if end else period)))
        # what came during the last pause is shown too (the count below includes it);
        # closed first, so no update comes after the last one drawn
        mon.close()
        draw()
    except KeyboardInterrupt:
        out.write("\n")
        interrupted = True
    finally:
        mon.close()
    out.write(f"monitor stopped: {mon.delivered} updates, {mon.dropped} dropped\n")
    out.flush()
    if interrupted and reraise:
        raise KeyboardInterrupt
    return mon


def live_table(mon: Monitor, rate: float) -> threading.Thread:
    """Keep one notebook output (an HTML table) current until ``mon`` closes."""
    from IPython.display import HTML, display

    handle = display(HTML(mon._repr_html_()), display_id=True)

    def run() -> None:
        period = 1.0 / rate
        try:
            while not mon.closed:
                if mon.wait_changed(period):
                    handle.update(HTML(mon._repr_html_()))
                    time.sleep(period)  # coalesce: at most `rate` redraws a second
            handle.update(HTML(mon._repr_html_()))
        except Exception:  # the front-end went away (kernel shutting down): stop quietly
            mon.close()

    thread = threading.Thread(target=run, name="ctlshell-monitor-table", daemon=True)
    thread.start()
    return thread
