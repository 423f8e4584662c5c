"""A control for one writable address: the input chosen by :func:`control_kind`,
a readout of the live value beside it, and the echo guard.

A change that comes from the browser (a person) writes the PV once; sliders and
text boxes send on release / Enter only (``continuous_update=False``). A monitor
update is applied by the ticker thread with a thread-local flag set, and the
observer ignores every change made under that flag, so an update from the PV is
never written back.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as w

from .. import api
from ..core import CtlshellError, Reading
from ._format import reading_html
from ._kinds import ControlKind, control_kind
from ._live import Live, canonical

__all__ = ["Control"]


def _input(kind: ControlKind, description: str) -> w.ValueWidget:
    common: dict[str, Any] = {"description": description, "continuous_update": False,
                              "style": {"description_width": "initial"}}
    if kind.kind == "dropdown":
        return w.Dropdown(options=[(c, i) for i, c in enumerate(kind.choices)], description=description)
    if kind.kind == "slider":
        lo, hi = kind.limits or (0, 1)
        cls = w.IntSlider if kind.integer else w.FloatSlider
        return cls(min=lo, max=hi, step=kind.step, value=lo, **common)
    if kind.kind == "number":
        return (w.IntText if kind.integer else w.FloatText)(**common)
    return w.Text(**common)


class Control(Live):
    """A control that writes ``address`` when a person changes it.

    Parameters
    ----------
    address : str
    fps : float
        Refresh cap for updates from the PV (default 10 a second).

    Attributes
    ----------
    writes : int
        Writes this control has made (one per move).
    error : str
        The last write's refusal, "" after a good write.

    Raises
    ------
    ValidationError
        The channel is read-only or an array; nothing is subscribed.
    AddressError, NotFoundError, ChannelTimeoutError
    """

    def __init__(self, address: str, *, fps: float = 10.0, description: str | None = None) -> None:
        super().__init__(fps)
        (self.address,) = canonical([address])
        self.metadata = self._metadata([self.address])[self.address]
        self.kind = control_kind(self.address, self.metadata)
        self.writes = 0
        self.error = ""
        self._local = threading.local()
        self._latest: dict[str, Reading] = {}
        label = description if description is not None else self.address.split("://", 1)[-1]
        self.input = _input(self.kind, label)
        self.input.add_class("ctlshell-control")
        self.status = w.HTML(reading_html(self.address, None, self.metadata))
        self.widget = w.VBox([self.input, self.status])
        self.input.observe(self._on_change, names="value")
        self._subscribe(self.address, self._reading_store(self._latest, self.address, self._mark))
        self._start()

    @property
    def reading(self) -> Reading | None:
        return self._latest.get(self.address)

    def _on_change(self, change: dict[str, Any]) -> None:
        if getattr(self._local, "applying", False):
            return  # our own update from the PV: never echoed back as a write
        value = change["new"]
        try:
            api.put(self.address, value)
        except CtlshellError as exc:
            self.error = str(exc)
            self.status.value = f'<span style="color:#cf222e">write refused: {exc}</span>'
            self._mark()  # the next frame shows the PV's value again
            return
        self.writes += 1
        self.error = ""

    def _frame(self) -> None:
        reading = self.reading
        if reading is None:
            return
        with self.widget.hold_sync(), self.input.hold_sync():
            if reading.connected:
                self._local.applying = True
                try:
                    self.input.value = self._widget_value(reading.value)
                except Exception:  # a value the input cannot show (out of its range): shown in the status
                    pass
                finally:
                    self._local.applying = False
            self.input.disabled = not reading.connected
            refused = f'<br><span style="color:#cf222e">write refused: {self.error}</span>' if self.error else ""
            self.status.value = reading_html(self.address, reading, self.metadata) + refused

    def _widget_value(self, value: Any) -> Any:
        if self.kind.kind == "text":
            return str(value)
        if self.kind.kind == "dropdown":
            return int(value)
        return int(value) if self.kind.integer else float(value)
