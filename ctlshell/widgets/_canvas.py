"""A matplotlib figure for a live plot, without pyplot: an ipympl canvas (a widget)
inside a Jupyter kernel, an Agg canvas elsewhere (terminal, scripts, the bench).
The user's pyplot state and open figures are left alone."""

from __future__ import annotations

import itertools
from typing import Any

__all__ = ["in_kernel", "new_figure"]

_NUMS = itertools.count(1000)


def in_kernel() -> bool:
    """True inside a Jupyter kernel (a browser can show widgets)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def new_figure(figsize: tuple[float, float] = (7, 3.5), interactive: bool | None = None) -> Any:
    """A Figure whose canvas is an ipympl widget (``interactive``, default: in a kernel) or Agg."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    if interactive if interactive is not None else in_kernel():
        from ipympl.backend_nbagg import Canvas, FigureManager

        canvas = Canvas(fig)
        FigureManager(canvas, next(_NUMS))
        canvas.header_visible = False
        canvas.toolbar_visible = False
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig
