"""How a reading looks in a widget: value text (the one display of
:mod:`ctlshell.core`), severity colour, timestamp and connection state as small HTML.
Pure functions of values; imports no widget library.
"""

from __future__ import annotations

import html
from typing import Any

from ..core import Metadata, Reading, Severity, format_value, stamp

__all__ = ["SEVERITY_COLOURS", "reading_html", "state_of", "value_text"]

#: the colours every display uses for the one alarm model (EPICS/MEDM convention)
SEVERITY_COLOURS = {
    Severity.NO_ALARM: "#1a7f37", Severity.MINOR: "#bf8700", Severity.MAJOR: "#cf222e",
    Severity.INVALID: "#8250df", Severity.DISCONNECTED: "#6e7781",
}


def value_text(value: Any, meta: Metadata | None) -> str:
    """The value as every display of ctlshell shows it (:func:`ctlshell.core.format_value`);
    ``—`` for none yet."""
    return "—" if value is None else format_value(value, meta)


def state_of(reading: Reading | None) -> str:
    """``waiting`` (nothing yet), ``connected`` or ``disconnected``."""
    if reading is None:
        return "waiting"
    return "connected" if reading.connected else "disconnected"


def reading_html(address: str, reading: Reading | None, meta: Metadata | None) -> str:
    """One line: address, value with units coloured by severity, alarm, time, state."""
    state = state_of(reading)
    severity = reading.severity if reading is not None else Severity.DISCONNECTED
    colour = SEVERITY_COLOURS[severity]
    text = value_text(reading.value if reading is not None and reading.connected else None, meta)
    alarm = ""
    if reading is not None and severity not in (Severity.NO_ALARM, Severity.DISCONNECTED):
        alarm = f" <b>{severity.name}</b> {html.escape(reading.status)}"
    when = stamp(reading.timestamp) if reading is not None else ""
    return (f'<span class="ctlshell-readout" data-state="{state}" data-severity="{severity.name}">'
            f'<code>{html.escape(address)}</code> '
            f'<b style="color:{colour}">{html.escape(text)}</b>{alarm} '
            f'<small style="color:#6e7781">{when} {state}</small></span>')
