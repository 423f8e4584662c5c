"""Text and HTML for readings, channel descriptions and status rows.

Pure functions: values in, strings out. Units and precision come from a
:class:`~ctlshell.core.Metadata` the caller already has (never fetched here);
severity picks the colour: ANSI in the terminal, CSS in notebooks.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import Any

from ..core import Metadata, Reading, Severity

__all__ = ["ANSI", "CSS", "alarm_text", "format_value", "html_table", "stamp", "text_table"]

ANSI = {Severity.NO_ALARM: "", Severity.MINOR: "\x1b[33m", Severity.MAJOR: "\x1b[31;1m",
        Severity.INVALID: "\x1b[35m", Severity.DISCONNECTED: "\x1b[90m"}
CSS = {Severity.NO_ALARM: "", Severity.MINOR: "color:#b58900;font-weight:bold",
       Severity.MAJOR: "color:#dc322f;font-weight:bold", Severity.INVALID: "color:#d33682",
       Severity.DISCONNECTED: "color:#93a1a1;font-style:italic"}
_RESET = "\x1b[0m"
_MAX_ITEMS = 6


def stamp(t: float | None) -> str:
    """``HH:MM:SS.mmm`` in local time, ``-`` for none."""
    if t is None:
        return "-"
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int((t % 1) * 1000):03d}"


def format_value(value: Any, meta: Metadata | None = None) -> str:
    """The value as a scientist reads it: precision applied, enum as its choice,
    units appended, long arrays shortened."""
    units = f" {meta.units}" if meta is not None and meta.units else ""
    if meta is not None and meta.choices and isinstance(value, int) and 0 <= value < len(meta.choices):
        return meta.choices[value]
    if hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
        items = list(value[:_MAX_ITEMS]) if len(value) > _MAX_ITEMS else list(value)
        body = ", ".join(format_value(v, meta).removesuffix(units) for v in items)
        more = f", ... ({len(value)} items)" if len(value) > _MAX_ITEMS else ""
        return f"[{body}{more}]{units}"
    if isinstance(value, float) and meta is not None and meta.precision is not None and (
            meta.precision > 0 or value.is_integer()):
        # PREC 0 on a fractional value is usually an unset PREC: do not hide the fraction (bluesky#1115)
        return f"{value:.{min(meta.precision, 17)}f}{units}"
    if isinstance(value, float):
        return f"{value:.6g}{units}"
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return format_value(value.item(), meta)
    return f"{value}{units}"


def alarm_text(reading: Reading | None) -> str:
    """``ok``, or the severity and status (``MINOR HIGH``); ``-`` before the first reading."""
    if reading is None:
        return "-"
    if reading.severity is Severity.NO_ALARM:
        return "ok"
    return f"{reading.severity.name}{' ' + reading.status if reading.status else ''}"


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]],
               severities: Sequence[Severity | None] = (), color: bool = False) -> str:
    """Aligned columns; each row coloured by its severity when ``color``."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    for n, row in enumerate(rows):
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
        sev = severities[n] if n < len(severities) else None
        if color and sev is not None and ANSI[sev]:
            line = f"{ANSI[sev]}{line}{_RESET}"
        lines.append(line)
    return "\n".join(lines)


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]],
               severities: Sequence[Severity | None] = ()) -> str:
    """An HTML table; each row styled by its severity."""
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in header)
    body = []
    for n, row in enumerate(rows):
        sev = severities[n] if n < len(severities) else None
        style = CSS[sev] if sev is not None else ""
        cells = "".join(f"<td style='text-align:left'>{html.escape(c)}</td>" for c in row)
        body.append(f"<tr style='{style}'>{cells}</tr>")
    return f"<table class='ctlshell'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
