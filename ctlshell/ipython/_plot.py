"""``%pv plot``: collect live values for a while, then draw them into a PNG.

Scalars are drawn against time, one line per address; an array channel is drawn as
its latest value against the index. matplotlib is imported here only (Agg canvas, no
pyplot: the user's backend and open figures are left alone).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import api
from ..core import Reading

__all__ = ["collect", "draw", "figure"]

_MAX_POINTS = 100_000  # per address: a long plot keeps the newest points, never grows without bound


def collect(addresses: Sequence[str], duration: float,
            on_tick: Any = None) -> tuple[dict[str, deque[Reading]], bool]:
    """Monitor ``addresses`` for ``duration`` seconds (Ctrl-C ends early).

    ``on_tick(series)`` is called about twice a second (a notebook redraws there).

    Returns
    -------
    (series, interrupted)
        The readings of each address, and whether Ctrl-C ended the collection.
    """
    interrupted = False
    series: dict[str, deque[Reading]] = {a: deque(maxlen=_MAX_POINTS) for a in addresses}
    lock = threading.Lock()
    subs = []

    def receiver(address: str) -> Any:
        def receive(r: Reading) -> None:
            with lock:
                series[address].append(r)
        return receive

    try:
        for address in addresses:
            subs.append(api.monitor(address, receiver(address), policy=10_000))
        end = time.monotonic() + duration
        while time.monotonic() < end:
            time.sleep(min(0.5, max(0.0, end - time.monotonic())))
            if on_tick is not None:
                with lock:
                    snap = {a: deque(s) for a, s in series.items()}
                on_tick(snap)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for sub in subs:
            sub.close()
    with lock:
        return {a: deque(s) for a, s in series.items()}, interrupted


def figure(series: dict[str, deque[Reading]], units: dict[str, str] | None = None,
           now: float | None = None) -> Any:
    """The collected readings as a matplotlib Figure (Agg canvas): one y axis per unit
    (a PV without units its own), each scalar drawn as a step held up to the end of
    the collection; an array channel as its latest value against the index."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    units = units or {}
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    axes: dict[str, Any] = {}
    lines = []
    t0 = min((s[0].timestamp for s in series.values() if s), default=time.time())
    end = max([time.time() if now is None else now] + [s[-1].timestamp for s in series.values() if s])
    for n, (address, readings) in enumerate(series.items()):
        label = f"{address} [{units[address]}]" if units.get(address) else address
        key = units.get(address) or f"({address.split('://', 1)[-1]})"
        if key not in axes:  # counts and millimetres never share a scale
            axes[key] = ax if not axes else ax.twinx()
            if len(axes) > 2:
                axes[key].spines["right"].set_position(("axes", 1 + 0.12 * (len(axes) - 2)))
            axes[key].set_ylabel(key)
        target = axes[key]
        good = [r for r in readings if r.connected]
        if good and np.ndim(good[-1].value) >= 1:
            lines += target.plot(np.asarray(good[-1].value, dtype=float), color=f"C{n % 10}", label=f"{label} (latest)")
            ax.set_xlabel("index")
            continue
        try:
            ys = [float(r.value) for r in good]
        except (TypeError, ValueError):
            continue  # strings cannot be drawn
        xs = [r.timestamp - t0 for r in good]
        if ys:  # the last value stands until the end: a quiet channel is not a line that stops
            xs, ys = xs + [end - t0], ys + [ys[-1]]
        lines += target.plot(xs, ys, marker=".", drawstyle="steps-post", color=f"C{n % 10}",
                             label=f"{label} ({len(good)} points)")
        ax.set_xlabel(f"seconds since {time.strftime('%H:%M:%S', time.localtime(t0))}")
    ax.legend(handles=lines, loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig


def draw(series: dict[str, deque[Reading]], path: str | Path, units: dict[str, str] | None = None) -> Path:
    """Write the collected readings as a PNG (see :func:`figure`); returns its path."""
    out = Path(path).expanduser()
    figure(series, units).savefig(out, format="png")
    return out.resolve()
