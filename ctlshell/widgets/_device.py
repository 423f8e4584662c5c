"""A device panel for a Karabo-style :class:`~ctlshell.proxies.DeviceProxy`: every
property with its value, units and time (from the proxy's own live values), an
entry box for each writable one (Enter writes, validated by the proxy), and a
button per slot."""

from __future__ import annotations

import html
import time
from typing import Any

import ipywidgets as w

from ..core import CtlshellError, ValidationError
from ._live import Live

__all__ = ["DevicePanel"]


class DevicePanel(Live):
    """A live panel of ``proxy``.

    Parameters
    ----------
    proxy : DeviceProxy
        From :func:`ctlshell.connect_device`; the panel reads the values the proxy
        keeps up to date and writes through it.
    fps : float
        Refresh cap (default 5 a second).

    Raises
    ------
    ValidationError
        ``proxy`` is not a device proxy.
    """

    def __init__(self, proxy: Any, *, fps: float = 5.0) -> None:
        from ..proxies import DeviceProxy

        if not isinstance(proxy, DeviceProxy):
            raise ValidationError(f"a device panel needs a DeviceProxy (connect_device(...)), not {type(proxy).__name__}")
        super().__init__(fps)
        self.proxy = proxy
        schema = proxy._schema  # the proxy's descriptors: keys, units, access, slots
        self.properties = schema.properties
        self.error = w.HTML("")
        self.table = w.HTML(self.html())
        self.entries: dict[str, w.Text] = {}
        for key, desc in self.properties.items():
            if desc.writable and not desc.metadata.is_array:
                box = w.Text(description=key, continuous_update=False, placeholder="value, Enter writes",
                             style={"description_width": "initial"})
                box.observe(self._entry(key), names="value")
                self.entries[key] = box
        buttons = []
        for slot in schema.slots:
            button = w.Button(description=slot)
            button.on_click(self._slot(slot))
            buttons.append(button)
        title = w.HTML(f"<b>{html.escape(proxy._backend.address)}</b>")
        self.widget = w.VBox([title, self.table, *self.entries.values(), w.HBox(buttons), self.error])
        self.widget.add_class("ctlshell-device-panel")
        self._last = ""
        self._dirty = True
        self._start()

    def html(self) -> str:
        rows = []
        for key, desc in self.properties.items():
            value = self.proxy[key]
            shown = "(unset)" if not value.is_set else str(value.value)
            stamp = "" if value.timestamp is None else time.strftime("%H:%M:%S", time.localtime(value.timestamp.toTimestamp()))
            cells = (key, shown, desc.metadata.units, stamp, desc.access_mode.lower())
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        return ("<table><tr><th>property</th><th>value</th><th>units</th><th>time</th><th>access</th></tr>"
                + "".join(rows) + "</table>")

    def _tick(self) -> None:
        # the proxy has no callback for us: compare what it shows now with the last frame
        if self._closed:
            return
        text = self.html()
        if text != self._last:
            self._last = text
            self.table.value = text
            self.frames += 1

    def _entry(self, key: str) -> Any:
        def write(change: dict[str, Any]) -> None:
            text = change["new"].strip()
            if not text:
                return
            try:
                value: Any = float(text) if self.properties[key].metadata.dtype not in ("string", "enum") else text
            except ValueError:
                value = text
            try:
                self.proxy[key] = value
                self.error.value = ""
            except (CtlshellError, AttributeError, ValueError) as exc:
                self.error.value = f'<span style="color:#cf222e">{html.escape(str(exc))}</span>'
        return write

    def _slot(self, slot: str) -> Any:
        def call(_: Any) -> None:
            try:
                getattr(self.proxy, slot)(wait=False)
            except CtlshellError as exc:
                self.error.value = f'<span style="color:#cf222e">{html.escape(str(exc))}</span>'
        return call
