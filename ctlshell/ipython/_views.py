"""Rich display of what ``%pv`` returns: text in the terminal, HTML in notebooks.

:class:`Readings` and :class:`StatusTable` are lists with a display; readings,
channel descriptions and hosted PVs of the core get formatters registered on the
shell (:func:`register` / :func:`unregister`), so ``ctlshell.get(...)`` shows the same
way. Metadata for units and precision comes from :data:`META`, filled by the
verbs; a formatter never asks a server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..api import ChannelInfo
from ..core import DISPLAY_METADATA, ChannelStatus, Metadata, Reading, Severity, Subscription, metadata_pairs
from ._format import alarm_text, format_value, html_table, stamp, text_table

__all__ = ["META", "Readings", "StatusTable", "register", "unregister"]

#: address -> Metadata seen by the verbs (for units, precision and choices): the one book
#: every display reads, ``str(reading)`` too (ctlshell.core's display metadata)
META: dict[str, Metadata] = DISPLAY_METADATA
#: whether text output may carry ANSI colours (set from the shell's colour scheme)
COLOR = {"on": False}


def _reading_row(r: Reading) -> list[str]:
    return [r.address, format_value(r.value, META.get(r.address)), alarm_text(r), stamp(r.timestamp)]


_HEAD = ["address", "value", "alarm", "time"]


def reading_text(r: Reading) -> str:
    return text_table(_HEAD, [_reading_row(r)], [r.severity], COLOR["on"]).splitlines()[1]


def reading_html(r: Reading) -> str:
    return html_table(_HEAD, [_reading_row(r)], [r.severity])


class Readings(list):
    """Several readings, shown as one table (``%pv get A B``)."""

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(text_table(_HEAD, [_reading_row(r) for r in self], [r.severity for r in self], COLOR["on"]))

    def _repr_html_(self) -> str:
        return html_table(_HEAD, [_reading_row(r) for r in self], [r.severity for r in self])


_STATUS_HEAD = ["address", "value", "alarm", "taken", "age", "live", "state", "users", "updates", "dropped"]


def age_text(seconds: float) -> str:
    """``0.4 s``, ``12 s``, ``3 min``, ``2.1 h``, ``5 d``: how long ago a value was taken."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"


def liveness(s: ChannelStatus) -> str:
    """``live`` while a subscription keeps the value current on a connected channel;
    otherwise why the value shown may be old (read once, disconnected, ...)."""
    if s.live:
        return "live"
    return f"no ({s.state})" if str(s.state) != "connected" else "no (not monitored)"


def _status_row(s: ChannelStatus, now: float) -> list[str]:
    value = "-" if s.last_update is None else format_value(s.value, META.get(s.address))
    alarm = "-" if s.severity is None else ("ok" if s.severity.name == "NO_ALARM" else s.severity.name)
    age = "-" if s.last_update is None else age_text(now - s.last_update)
    return [s.address, value, alarm, stamp(s.last_update), age, liveness(s), str(s.state), str(s.users),
            str(s.updates), str(s.dropped)]


class StatusTable(list):
    """Every channel of the session (``%pv status``)."""

    def _rows(self) -> tuple[list[list[str]], list[Any]]:
        now = time.time()
        # a value that is not live is shown greyed, whatever its alarm: it may be old
        return ([_status_row(s, now) for s in self],
                [s.severity if liveness(s) == "live" else Severity.DISCONNECTED for s in self])

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        if not self:
            p.text("no channels in this session yet")
            return
        rows, sev = self._rows()
        p.text(text_table(_STATUS_HEAD, rows, sev, COLOR["on"]))

    def _repr_html_(self) -> str:
        rows, sev = self._rows()
        return html_table(_STATUS_HEAD, rows, sev)


def _meta_pairs(m: Metadata) -> list[list[str]]:
    return metadata_pairs(m)


def meta_text(m: Metadata) -> str:
    return "\n".join(f"{k:>15}: {v}" for k, v in _meta_pairs(m))


def meta_html(m: Metadata) -> str:
    return html_table(["", ""], _meta_pairs(m))


def _info_pairs(info: ChannelInfo) -> list[list[str]]:
    m, st = info.metadata, info.status
    pairs = [["address", info.address], *_meta_pairs(m)[:2], ["server", info.server or "(not reported)"],
             *_meta_pairs(m)[2:]]
    if st is not None:
        pairs += [["state", str(st.state)], ["subscribers", str(st.users)], ["updates", str(st.updates)],
                  ["dropped", str(st.dropped)], ["last update", stamp(st.last_update)]]
        if st.moved or st.slowest >= 0.1:  # a callback that blocked: measured by the delivery pool
            pairs.append(["slow callbacks", f"{st.moved} on a thread of their own, slowest {st.slowest:.2f} s"])
    return pairs


def info_text(info: ChannelInfo) -> str:
    return "\n".join(f"{k:>15}: {v}" for k, v in _info_pairs(info))


def info_html(info: ChannelInfo) -> str:
    return html_table(["", ""], _info_pairs(info))


_SUB_HEAD = ["address", "state", "policy", "delivered", "dropped", "last value", "alarm", "time"]


def _sub_row(sub: Subscription) -> list[str]:
    r = sub.last
    value = "-" if r is None else format_value(r.value, META.get(sub.address))
    return [sub.address, "closed" if sub.closed else "open", str(sub.policy), str(sub.delivered),
            str(sub.dropped), value, alarm_text(r), stamp(None if r is None else r.timestamp)]


def subscription_text(sub: Subscription) -> str:
    r = sub.last
    return text_table(_SUB_HEAD, [_sub_row(sub)], [None if r is None else r.severity], COLOR["on"])


def subscription_html(sub: Subscription) -> str:
    r = sub.last
    return html_table(_SUB_HEAD, [_sub_row(sub)], [None if r is None else r.severity])


def _pretty(fn: Callable[[Any], str]) -> Callable[[Any, Any, bool], None]:
    def printer(obj: Any, p: Any, cycle: bool) -> None:
        p.text(fn(obj))
    return printer


_FORMATTERS: list[tuple[type, Callable[..., Any], Callable[..., Any]]] = [
    (Reading, _pretty(reading_text), reading_html),
    (ChannelInfo, _pretty(info_text), info_html),
    (Metadata, _pretty(meta_text), meta_html),  # what info() returns, in a notebook too
    (Subscription, _pretty(subscription_text), subscription_html),
]


def register(shell: Any) -> None:
    """Add the text and HTML formatters for core types to ``shell``."""
    COLOR["on"] = str(getattr(shell, "colors", "nocolor")).lower() != "nocolor"
    fmt = shell.display_formatter.formatters
    for cls, text, rich in _FORMATTERS:
        fmt["text/plain"].for_type(cls, text)
        fmt["text/html"].for_type(cls, rich)


def unregister(shell: Any) -> None:
    fmt = shell.display_formatter.formatters
    for cls, _, _ in _FORMATTERS:
        for kind in ("text/plain", "text/html"):
            try:
                fmt[kind].pop(cls)
            except KeyError:
                pass

