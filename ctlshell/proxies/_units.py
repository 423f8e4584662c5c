"""The one pint registry of ctlshell proxies, and unit strings of servers parsed into it.

Servers state units as free text ("mm", "K/s", "degC", "arb. units"); what pint
cannot read counts as no unit (the text stays in the descriptor). Knows no server.
"""

from __future__ import annotations

import functools
from typing import Any

import pint

__all__ = ["Quantity", "parse_unit", "seconds", "unit"]

#: The registry: ``5 * unit.mm``. Quantities of another registry are refused by pint.
unit: pint.UnitRegistry[Any] = pint.UnitRegistry()
Quantity = unit.Quantity


@functools.lru_cache(maxsize=512)
def parse_unit(text: str) -> Any:
    """The pint unit for a server's unit text, or ``None`` (empty or unknown to pint).

    Parameters
    ----------
    text : str
        e.g. ``"mm"``, ``"K/s"``, ``"l/min"``.

    Returns
    -------
    pint.Unit or None
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        parsed = unit.Unit(text)
    except Exception:  # pint raises several kinds (UndefinedUnitError, DefinitionSyntaxError, ...)
        return None
    return None if parsed.dimensionless and parsed == unit.Unit("") else parsed


def seconds(delay: Any) -> float | None:
    """A delay as float seconds: a number, or anything with a time unit.

    Raises
    ------
    pint.DimensionalityError
        For a quantity that is not a time (``1 * unit.m``).
    """
    if delay is None:
        return None
    magnitude = getattr(delay, "quantity", delay)  # a ctlshell Value
    if isinstance(magnitude, pint.Quantity):
        return float(magnitude.to(unit.s).magnitude)
    return float(magnitude)
