"""Data sources of the writer core: the :class:`Sample` a source gives, the small
:class:`SourceReader` interface the TANGO, DB and CHANNEL readers implement, and the
CLIENT lookup in the JSON records.

Pure: no Tango, no SQL, no network here. Readers are passed to the writer as data
(``{"TANGO": reader, ...}``), so the core can be tested with real readers of any kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..core import NotFoundError, ValidationError
from ._config import Source
from ._plugins import check_plugins

try:  # ten times faster than json on a 1000-float spectrum; json stays the reference
    from orjson import JSONDecodeError as _FastError, loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a dependency, but not a required one
    # json.loads takes what orjson.loads takes; ValueError is the base of both decode errors
    _FastError, _fast_loads = ValueError, json.loads  # type: ignore[misc,assignment]  # the stdlib stand-in

__all__ = ["STAMPED", "Sample", "SourceReader", "client_value", "parse_record"]

#: kinds whose samples carry (a timestamp, a severity), kept per point in the file
STAMPED: dict[str, tuple[bool, bool]] = {"TANGO": (True, True), "CHANNEL": (True, True), "DB": (True, False)}


@dataclass(frozen=True)
class Sample:
    """One value read from a source, with its server timestamp (epoch s) and severity
    (0 NO_ALARM, 1 MINOR, 2 MAJOR, 3 INVALID) when the source has them."""

    value: Any
    timestamp: float | None = None
    severity: int | None = None


class SourceReader(Protocol):
    """Reads one source now. Raise a :class:`~ctlshell.core.CtlshellError` (or any
    exception) when it cannot; the writer turns that into a refused record. A reader
    may also offer ``units(source) -> str | None``: the units of a field whose XML gives
    none are then taken from its source."""

    def read(self, source: Source) -> Sample: ...

    def close(self) -> None: ...


def parse_record(text: str | Mapping[str, Any] | None, what: str = "JSON record") -> dict[str, Any]:
    """The ``data`` dict and ``triggers`` of a JSON record (``{"data": {...}, "triggers": [...]}``),
    with its ``decoders`` and ``datasources`` (NXSDataWriter's built-in ones only) as name -> kind.

    Raises
    ------
    ValidationError
        Not JSON (with line and column), not an object, or ``data``/``triggers`` of the wrong type.
    """
    if text is None or (isinstance(text, str) and not text.strip()):
        return {"data": {}, "triggers": [], "decoders": {}, "datasources": {}}
    if isinstance(text, str):
        try:
            try:
                obj = _fast_loads(text)
            except _FastError:  # NaN/Infinity or huge integers (json takes them), or a real error
                obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{what}: not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    else:
        obj = dict(text)
    if not isinstance(obj, dict):
        raise ValidationError(f"{what}: expected a JSON object like {{\"data\": {{...}}}}, got {type(obj).__name__}")
    data, triggers = obj.get("data", {}), obj.get("triggers", [])
    if not isinstance(data, dict):
        raise ValidationError(f"{what}: \"data\" must be an object of name: value")
    if not isinstance(triggers, list) or not all(isinstance(t, str) for t in triggers):
        raise ValidationError(f"{what}: \"triggers\" must be a list of names")
    unknown = set(obj) - {"data", "triggers", "decoders", "datasources"}
    if unknown:
        raise ValidationError(f"{what}: unknown keys {sorted(unknown)} (ctlshell reads \"data\", \"triggers\", "
                              "\"decoders\" and \"datasources\")")
    decoders, sources = check_plugins(obj, what)
    return {"data": data, "triggers": triggers, "decoders": decoders, "datasources": sources}


def client_value(source: Source, local: Mapping[str, Any], global_: Mapping[str, Any], where: str) -> Sample:
    """The value of a CLIENT source: the record's ``data``, else the global JSONRecord.

    Names may contain ``/`` (Tango-style ``p09/counter/exp.01``): they are plain keys,
    no Tango database is asked.

    Raises
    ------
    NotFoundError
        The name is in neither record (never a fill value).
    """
    name = source.record
    if name in local:
        return Sample(local[name])
    if name in global_:
        return Sample(global_[name])
    known = sorted(set(local) | set(global_))
    raise NotFoundError(f"{where}: CLIENT value {name!r} is missing from the JSON record "
                        f"(it has {', '.join(map(repr, known[:8])) or 'no values'}{' ...' if len(known) > 8 else ''})")
