"""Karabo's ``getHistory`` from what ctlshell records: the journal of client writes.

A hosted device's journal (``ctlshell.api.journal``; in the state file when one is
configured, else in memory) holds every accepted client write with its time and new
value, so ``get_history(dev.x, minutes_ago(10))`` lists them as Karabo's rows
``(seconds, is_last, value)``. Values a device publishes itself, and every value of an
EPICS prefix or a Tango device, have no history source here: asking for one raises
(ADR 0008).
"""

from __future__ import annotations

from typing import Any

from ..api import journal, session
from ..core import ValidationError
from ._proxy import source_of
from ._timestamp import Timestamp

__all__ = ["get_history"]


def _seconds(when: Any, name: str) -> float:
    if when is None:
        return Timestamp().toTimestamp()
    if isinstance(when, Timestamp):
        return when.toTimestamp()
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        return float(when)
    if isinstance(when, str):
        try:
            return Timestamp(when).toTimestamp()
        except (ValueError, OverflowError) as exc:
            raise ValidationError(f"{name}: cannot read the date {when!r} ({exc})") from None
    raise ValidationError(f"{name} takes a Timestamp, POSIX seconds or a date string, not {when!r}")


def get_history(prop: Any, begin: Any, end: Any = None, maxNumData: int = 10000,  # noqa: N803 (Karabo's)
                timeout: Any = -1, verbose: bool = False) -> list[tuple[float, bool, Any]]:
    """The recorded values of a hosted device's property between ``begin`` and ``end``.

    Parameters
    ----------
    prop : Value
        ``dev.key`` of a device hosted by this process.
    begin, end : Timestamp, float, str or None
        The time span (``end`` None: now); strings as ``Timestamp`` reads them.
    maxNumData : int
        At most this many rows (1..10000), evenly thinned over the span.
    timeout, verbose
        Karabo's; the journal is local, so neither changes anything (``verbose`` prints
        the request).

    Returns
    -------
    list of (float, bool, object)
        ``(seconds since the epoch, is last row, value)``, oldest first.

    Raises
    ------
    ValidationError
        Not a property of a hosted device (no history source), a bad span or count.
    """
    proxy, key = source_of(prop)
    backend = proxy._backend
    if not backend.address.startswith("local://") or not any(
            getattr(getattr(o, "group", o), "prefix", None) == getattr(backend, "prefix", None)
            for o in session().objects):
        raise ValidationError(f"{backend.address} {key}: no history source (only client writes to devices "
                              "hosted by this process are journaled)")
    if not isinstance(maxNumData, int) or isinstance(maxNumData, bool) or not 1 <= maxNumData <= 10000:
        raise ValidationError(f"maxNumData takes 1..10000, not {maxNumData!r}")
    start, stop = _seconds(begin, "begin"), _seconds(end, "end")
    if start > stop:
        raise ValidationError(f"begin ({begin!r}) is after end ({end!r})")
    pv = backend.prefix + key
    if verbose:
        print(f"history of {key!r} of {backend.address} from the journal of {pv}")
    rows = [(e.time, e.new) for e in journal(pv, None) if start <= e.time <= stop]
    if len(rows) > maxNumData:
        step = len(rows) / maxNumData
        rows = [rows[int(i * step)] for i in range(maxNumData - 1)] + [rows[-1]]
    return [(t, i == len(rows) - 1, v) for i, (t, v) in enumerate(rows)]
