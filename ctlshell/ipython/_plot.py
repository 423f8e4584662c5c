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

__all__ = ["collect", "draw"]

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


def draw(series: dict[str, deque[Reading]], path: str | Path, units: dict[str, str] | None = None) -> Path:
    """Write the collected readings as a PNG; returns its path."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    units = units or {}
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    t0 = min((s[0].timestamp for s in series.values() if s), default=time.time())
    for address, readings in series.items():
        label = f"{address} [{units[address]}]" if units.get(address) else address
        good = [r for r in readings if r.connected]
        if good and np.ndim(good[-1].value) >= 1:
            ax.plot(np.asarray(good[-1].value, dtype=float), label=f"{label} (latest)")
            ax.set_xlabel("index")
            continue
        xs = [r.timestamp - t0 for r in good]
        try:
            ys = [float(r.value) for r in good]
        except (TypeError, ValueError):
            continue  # strings cannot be drawn
        ax.plot(xs, ys, marker=".", label=f"{label} ({len(ys)} points)")
        ax.set_xlabel(f"seconds since {time.strftime('%H:%M:%S', time.localtime(t0))}")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    out = Path(path).expanduser()
    fig.savefig(out, format="png")
    return out.resolve()
