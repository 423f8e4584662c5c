"""Text and HTML for readings, channel descriptions and status rows.

Pure functions: values in, strings out. How a value reads (precision, units, enum
label, clock time) is :mod:`ctlshell.core._display`'s, re-exported here; this module
adds the tables and the colours: ANSI in the terminal, CSS in notebooks.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..core import SEVERITY_CSS as CSS
from ..core import Severity, alarm_text, format_value, stamp

__all__ = ["ANSI", "CSS", "alarm_text", "format_value", "html_table", "stamp", "text_table"]

ANSI = {Severity.NO_ALARM: "", Severity.MINOR: "\x1b[33m", Severity.MAJOR: "\x1b[31;1m",
        Severity.INVALID: "\x1b[35m", Severity.DISCONNECTED: "\x1b[90m"}
_RESET = "\x1b[0m"


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
