"""bluesky's standard plans, taking ctlshell addresses where they take devices.

``scan(["DEMO:DET:COUNTS"], "DEMO:MOTOR", 0, 5, 26)`` is
``bluesky.plans.scan([signal("DEMO:DET:COUNTS")], motor("DEMO:MOTOR"), 0, 5, 26)``:
every string in a device position becomes a device (:func:`device`) before the plan
starts, so an unknown or read-only address fails before anything moves. Limits are
checked here too: a position outside a motor's control limits is refused before the
first step.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from bluesky import plans as bp

from ..core import ValidationError
from ._devices import AddressMotor, motor, signal

__all__ = ["count", "grid_scan", "list_scan", "rel_grid_scan", "rel_scan", "scan", "scan_nd"]


def _devices(detectors: Iterable[Any]) -> list[Any]:
    if isinstance(detectors, (str, bytes)):
        detectors = [detectors]
    return [signal(d) if isinstance(d, str) else d for d in detectors]


def _movable(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    from .. import api

    if not api.info(value).writable:
        raise ValidationError(f"{value} is read-only: it cannot be scanned")
    return motor(value)


def _check_limits(dev: Any, positions: Iterable[float], relative: bool) -> None:
    """Refuse positions outside a motor's control limits before anything moves."""
    if not isinstance(dev, AddressMotor) or relative:
        return
    meta = dev.user_setpoint._connector.backend.meta  # type: ignore[attr-defined]  # noqa: SLF001 (our own backend: an AddressBackend)
    limits = meta.control_limits if meta is not None else None
    if limits is None or limits[0] == limits[1]:
        return
    low, high = limits
    bad = [p for p in positions if not low <= p <= high]
    if bad:
        raise ValidationError(f"{dev.name}: {bad[0]:g} is outside its limits [{low:g}, {high:g}]; nothing moved")


def _wrap(plan: Callable[..., Any], positional_motors: bool, relative: bool = False) -> Callable[..., Any]:
    @functools.wraps(plan)
    def wrapper(detectors: Any, *args: Any, **kwargs: Any) -> Any:
        dets = _devices(detectors)
        if positional_motors:
            args = tuple(_movable(a) if isinstance(a, str) else a for a in args)
            for i, a in enumerate(args):
                if isinstance(a, AddressMotor) and i + 2 < len(args):
                    start, stop = args[i + 1], args[i + 2]
                    if isinstance(start, (int, float)) and isinstance(stop, (int, float)):
                        _check_limits(a, (start, stop), relative)
        return plan(dets, *args, **kwargs)

    return wrapper


count = _wrap(bp.count, positional_motors=False)
scan = _wrap(bp.scan, positional_motors=True)
rel_scan = _wrap(bp.rel_scan, positional_motors=True, relative=True)
grid_scan = _wrap(bp.grid_scan, positional_motors=True)
rel_grid_scan = _wrap(bp.rel_grid_scan, positional_motors=True, relative=True)


def list_scan(detectors: Any, *args: Any, **kwargs: Any) -> Any:
    """bluesky's ``list_scan`` with addresses: ``list_scan(dets, motor, [positions], ...)``."""
    args = tuple(_movable(a) if isinstance(a, str) else a for a in args)
    for i, a in enumerate(args[:-1]):
        if isinstance(a, AddressMotor) and isinstance(args[i + 1], (list, tuple, np.ndarray)):
            _check_limits(a, [float(p) for p in args[i + 1]], relative=False)
    return bp.list_scan(_devices(detectors), *args, **kwargs)


def scan_nd(detectors: Any, cycler: Any, **kwargs: Any) -> Any:
    """bluesky's ``scan_nd`` (the cycler's keys must already be devices)."""
    return bp.scan_nd(_devices(detectors), cycler, **kwargs)
