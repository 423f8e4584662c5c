"""Live widgets and plots for Jupyter: the only ctlshell package that imports ipywidgets.

::

    from ctlshell import widgets
    widgets.Readout("ca://DEMO:RING:CURRENT")           # value, units, severity colour, time, state
    widgets.Control("ca://DEMO:SAMPLE:TEMP")            # slider / text / dropdown from the metadata
    widgets.MonitorTable(["DEMO:MOTOR.RBV", "DEMO:DET:COUNTS"])
    widgets.StripChart(["DEMO:RING:CURRENT"], length=10_000, window=60, fps=20)
    widgets.WaveformView("DEMO:SPECTRUM"); widgets.ScanView("DEMO:DET:COUNTS", "DEMO:MOTOR.RBV")
    widgets.DevicePanel(ctlshell.connect_device("local://DEMO:"))

Updates come from subscription threads into bounded stores (the newest reading, or
a ring buffer of stated length) and are applied by one frame-clock thread at a
capped rate, so widgets stay live while a cell runs and never flood the browser.
A control writes only what a person changes (echo guard). ``close()`` stops one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._control import Control
from ._device import DevicePanel
from ._kinds import ControlKind, control_kind
from ._live import Live
from ._plotbase import LivePlot
from ._plots import ScanView, StripChart, WaveformView
from ._readout import Readout
from ._ring import Ring
from ._runplot import RunPlot
from ._table import MonitorTable
from ._ticker import ticker

__all__ = [
    "RunPlot",
    "Control", "ControlKind", "DevicePanel", "Live", "LivePlot", "MonitorTable", "Readout", "Ring", "ScanView",
    "StripChart", "WaveformView", "control_kind", "plot", "ticker",
]


def plot(addresses: str | Sequence[str], **options: Any) -> LivePlot:
    """The live plot for ``addresses`` (what ``%pv plot`` opens in a notebook): a
    :class:`WaveformView` for one array channel, else a :class:`StripChart`."""
    from . import _live

    names = _live.canonical(addresses)
    if len(names) == 1:
        from .. import api

        if api.info(names[0]).is_array:
            return WaveformView(names[0], **{k: v for k, v in options.items() if k in ("fps", "interactive")})
    return StripChart(names, **options)
