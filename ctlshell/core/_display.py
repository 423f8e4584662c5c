"""The one way a value is shown: text, HTML and JSON-file forms of a reading.

Every display of ctlshell (``str``/``repr``/``_repr_html_`` of a
:class:`~ctlshell.core.Reading`, ``%pv get``, monitor lines, ``%pv status``,
snapshots and their diffs, widgets) goes through these pure functions: the value
with the channel's precision and units, an enum as its label, time as local clock
time (full ISO 8601 in files), the alarm when it is not OK.

Units, precision and choices come from a :class:`~ctlshell.core.Metadata` the caller
passes, or from :data:`DISPLAY_METADATA`, the book the client verbs fill once per
channel (ADR 0013, "display metadata"); nothing here asks a server. Knows no
IPython, no widget library.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import datetime
import html
import time
from typing import Any

from ._model import Metadata, Reading, Severity

__all__ = ["CSS", "DISPLAY_METADATA", "alarm_text", "display_metadata", "forget_metadata", "format_value", "iso_time",
           "metadata_pairs", "pairs_html", "plain_value", "reading_html", "reading_line", "remember_metadata", "stamp"]

#: address (``scheme://name``) -> the channel's Metadata, as the client verbs last saw it
DISPLAY_METADATA: dict[str, Metadata] = {}
_MAX_BOOK = 100_000
_MAX_ITEMS = 6

#: the style each severity gets in HTML (notebooks)
CSS = {Severity.NO_ALARM: "", Severity.MINOR: "color:#b58900;font-weight:bold",
       Severity.MAJOR: "color:#dc322f;font-weight:bold", Severity.INVALID: "color:#d33682",
       Severity.DISCONNECTED: "color:#93a1a1;font-style:italic"}


def remember_metadata(address: str, meta: Metadata) -> None:
    """Keep ``meta`` as the display metadata of ``address`` (bounded: the oldest go first)."""
    if len(DISPLAY_METADATA) >= _MAX_BOOK and address not in DISPLAY_METADATA:
        DISPLAY_METADATA.pop(next(iter(DISPLAY_METADATA)))
    DISPLAY_METADATA[address] = meta


def forget_metadata(address: str) -> None:
    """Forget the display metadata of ``address`` (its PV was replaced: other units,
    precision or choices maybe); the next display learns it afresh."""
    DISPLAY_METADATA.pop(address, None)


def display_metadata(address: str) -> Metadata | None:
    """The metadata known for ``address``, or None."""
    return DISPLAY_METADATA.get(address)


def _scalar(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return value.item()  # numpy scalar
    return value


def _label(value: Any, meta: Metadata | None) -> str | None:
    """The enum choice an index stands for, or None."""
    if meta is None or not meta.choices or isinstance(value, bool):
        return None
    value = _scalar(value)
    if isinstance(value, int) and 0 <= value < len(meta.choices):
        return meta.choices[value]
    return None


def format_value(value: Any, meta: Metadata | None = None) -> str:
    """The value as a scientist reads it.

    Parameters
    ----------
    value : Any
        A number, string, enum index or array.
    meta : Metadata, optional
        Precision, units and choices; without it floats get 6 significant digits.

    Returns
    -------
    str
        Precision applied, enum as its choice, units appended, long arrays shortened
        (``[1.00, 2.00, ... (1000 items)] counts``).
    """
    units = f" {meta.units}" if meta is not None and meta.units else ""
    label = _label(value, meta)
    if label is not None:
        return label
    value = _scalar(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):  # a structure (a PVA structure read whole)
        fields = ", ".join(f"{k}={format_value(v, None)}" for k, v in list(value.items())[:_MAX_ITEMS])
        return "{" + fields + (", ..." if len(value) > _MAX_ITEMS else "") + "}"
    if hasattr(value, "__len__") and hasattr(value, "__iter__"):
        items = list(itertools.islice(value, _MAX_ITEMS))
        body = ", ".join(format_value(v, meta).removesuffix(units) for v in items)
        more = f", ... ({len(value)} items)" if len(value) > _MAX_ITEMS else ""
        return f"[{body}{more}]{units}"
    if isinstance(value, float) and meta is not None and meta.precision is not None and (
            meta.precision > 0 or value.is_integer()):
        # PREC 0 on a fractional value is usually an unset PREC: do not hide the fraction (bluesky#1115)
        return f"{value:.{min(meta.precision, 17)}f}{units}"
    if isinstance(value, float):
        text = f"{value:.6g}"
        if text.lstrip("-").isdigit():
            text += ".0"  # a float stays recognisable as one (99.0, not 99)
        return f"{text}{units}"
    return f"{value}{units}"


def plain_value(value: Any, meta: Metadata | None = None) -> Any:
    """The value as JSON keeps it: an enum as its label, an array as a list."""
    label = _label(value, meta)
    if label is not None:
        return label
    value = _scalar(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def stamp(t: float | None, now: float | None = None) -> str:
    """Local clock time ``HH:MM:SS.mmm`` (with the date when not today); ``-`` for none."""
    if t is None:
        return "-"
    local = time.localtime(t)
    clock = time.strftime("%H:%M:%S", local) + f".{int((t % 1) * 1000):03d}"
    if time.localtime(time.time() if now is None else now)[:3] != local[:3]:
        return time.strftime("%Y-%m-%d ", local) + clock
    return clock


def iso_time(t: float) -> str:
    """Full local ISO 8601 with its UTC offset (``2026-12-02T19:30:01.123+00:00``), for files."""
    return datetime.datetime.fromtimestamp(t).astimezone().isoformat(timespec="milliseconds")


def alarm_text(reading: Reading | None) -> str:
    """``ok``, or the severity and status (``MINOR HIGH``); ``-`` before the first reading."""
    if reading is None:
        return "-"
    if reading.severity is Severity.NO_ALARM:
        return "ok"
    return f"{reading.severity.name}{' ' + reading.status if reading.status else ''}"


def _meta(reading: Reading, meta: Metadata | None) -> Metadata | None:
    return meta if meta is not None else DISPLAY_METADATA.get(reading.address)


def reading_line(reading: Reading, meta: Metadata | None = None) -> str:
    """``ca://X = 2.540 mm @ 19:30:01.123``, then ``[MAJOR HIHI]`` when in alarm."""
    alarm = "" if reading.severity is Severity.NO_ALARM else f" [{alarm_text(reading)}]"
    return f"{reading.address} = {format_value(reading.value, _meta(reading, meta))} @ {stamp(reading.timestamp)}{alarm}"


def metadata_pairs(meta: Metadata) -> list[list[str]]:
    """``[label, text]`` for what a channel says about itself: type and access, then
    each of units, precision, description, choices and limits the server states."""
    pairs = [["type", f"{meta.dtype}[{meta.count}]" if meta.is_array else meta.dtype],
             ["access", meta.access or "none"]]
    for label, value in (("units", meta.units), ("precision", meta.precision), ("description", meta.description),
                         ("choices", ", ".join(meta.choices) if meta.choices else None),
                         ("control limits", meta.control_limits), ("display limits", meta.display_limits),
                         ("alarm limits", meta.alarm_limits), ("warning limits", meta.warning_limits),
                         ("update mode", meta.updates)):
        if value not in (None, ""):
            pairs.append([label, str(value)])
    return pairs


def pairs_html(pairs: list[list[str]]) -> str:
    """A two-column HTML table of ``[label, text]`` pairs."""
    rows = "".join(f"<tr><th style='text-align:right'>{html.escape(k)}</th>"
                   f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in pairs)
    return f"<table class='ctlshell'><tbody>{rows}</tbody></table>"


def reading_html(reading: Reading, meta: Metadata | None = None) -> str:
    """One table row (address, value, alarm, time) styled by severity."""
    cells = [reading.address, format_value(reading.value, _meta(reading, meta)), alarm_text(reading),
             stamp(reading.timestamp)]
    head = "".join(f"<th style='text-align:left'>{h}</th>" for h in ("address", "value", "alarm", "time"))
    row = "".join(f"<td style='text-align:left'>{html.escape(c)}</td>" for c in cells)
    return (f"<table class='ctlshell'><thead><tr>{head}</tr></thead>"
            f"<tbody><tr style='{CSS[reading.severity]}'>{row}</tr></tbody></table>")
