"""A matplotlib figure for a live plot, without pyplot (the user's pyplot state and
open figures are left alone), on an Agg canvas.

In a notebook the plot is shown as an ``ipywidgets.Image`` that the frame clock
refills with a PNG: kernel-to-browser messages go out on iopub from any thread,
so the plot moves while a cell runs. (An ipympl canvas draws only when the
browser asks back for the image, and that request waits on the kernel's shell
channel, which a running cell keeps busy: measured in the browser test, see
docs/decisions/0010-widgets-and-live-plots.md.)
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["in_kernel", "new_figure", "render_png"]


def in_kernel() -> bool:
    """True inside a Jupyter kernel (a browser can show widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def new_figure(figsize: tuple[float, float] = (7, 3.5)) -> Any:
    """A Figure on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=100)
    # fixed margins: a constrained layout is recomputed at every frame (+25 % draw time)
    fig.subplots_adjust(left=0.1, right=0.97, top=0.9, bottom=0.15)
    FigureCanvasAgg(fig)
    return fig


def render_png(fig: Any) -> bytes:
    """Draw ``fig`` once and return it as PNG bytes."""
    buf = io.BytesIO()
    fig.canvas.print_png(buf)
    return buf.getvalue()
