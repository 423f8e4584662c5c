"""What every live plot shares: a figure on an Agg canvas, shown in a notebook as an
image widget the frame clock refills; the controls (pause, autoscale); drawing
coalesced to the frame-rate cap; and a count of the frames actually drawn."""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as w

from ._canvas import in_kernel, new_figure, render_png
from ._live import Live

__all__ = ["LivePlot"]


class LivePlot(Live):
    """Base of :class:`StripChart`, :class:`WaveformView` and :class:`ScanView`.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    drawn : int
        Frames the canvas actually rendered (its ``draw_event`` events).
    paused : bool
        While True, data keep flowing into the buffers but nothing is redrawn.
    autoscale : bool
    """

    def __init__(self, fps: float, title: str, interactive: bool | None) -> None:
        super().__init__(fps)
        self.figure = new_figure()
        self.interactive = in_kernel() if interactive is None else interactive
        self.ax = self.figure.add_subplot()
        self.axes = [self.ax]  # every y axis (a strip chart has one per unit)
        self.ax.set_title(title, fontsize="small")
        self.ax.grid(True, alpha=0.3)
        self.drawn = 0
        self.draw_times: list[float] = []  # the last 1000 draw times (monotonic), for frame rates
        self.figure.canvas.mpl_connect("draw_event", self._on_draw)
        self.pause_button = w.ToggleButton(description="pause", icon="pause")
        self.autoscale_box = w.Checkbox(value=True, description="autoscale", indent=False)
        self.pause_button.observe(lambda c: self._mark(), names="value")
        self.autoscale_box.observe(lambda c: self._mark(), names="value")
        self.controls = w.HBox([self.pause_button, self.autoscale_box])
        self.image = w.Image(format="png", layout=w.Layout(width="700px"))
        self.image.add_class("ctlshell-plot-image")
        self.widget = w.VBox([self.controls, self.image])
        self.widget.add_class("ctlshell-live-plot")

    @property
    def paused(self) -> bool:
        return bool(self.pause_button.value)

    def pause(self, paused: bool = True) -> None:
        self.pause_button.value = paused

    def resume(self) -> None:
        self.pause(False)

    @property
    def autoscale(self) -> bool:
        return bool(self.autoscale_box.value)

    @autoscale.setter
    def autoscale(self, on: bool) -> None:
        self.autoscale_box.value = on

    def _on_draw(self, event: Any) -> None:
        self.drawn += 1
        self.draw_times.append(time.monotonic())
        if len(self.draw_times) > 1000:
            del self.draw_times[:500]

    def fps_drawn(self, seconds: float = 5.0) -> float:
        """Frames drawn per second over the last ``seconds``."""
        now = time.monotonic()
        return sum(1 for t in self.draw_times if t > now - seconds) / seconds

    def _tick(self) -> None:
        if self.paused:
            return  # the dirty flag stays set: resuming draws what came meanwhile
        super()._tick()

    def _frame(self) -> None:
        self._update_artists()
        if self.autoscale:
            for ax in self.axes:
                ax.relim()
                ax.autoscale_view()
        if self.interactive:  # pushed to the browser on iopub from this thread, even while a cell runs
            self.image.value = render_png(self.figure)
        else:
            self.figure.canvas.draw()

    def _update_artists(self) -> None:
        raise NotImplementedError

    def png(self) -> bytes:
        """The figure as it is now, as PNG bytes (draws it once)."""
        return render_png(self.figure)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):  # what a viewer without widgets (nbviewer, a PDF) shows
            bundle["image/png"] = self.png()
        return bundle
