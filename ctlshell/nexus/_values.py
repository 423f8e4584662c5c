"""Reading the values of one entry's record for the writer: sources, CanFail, several points.

:class:`RecordValues` is the part of :class:`~._writer.FileWriter` that turns a JSON
record and the configured sources into checked values (and CanFail fill values, noted
in ``_failed`` to be marked once written). It writes nothing and must not know the
state rules or the HDF5 layout.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..core import CtlshellError, NotFoundError, ValidationError
from ._config import Attr, Config, Field, Source
from ._decoders import decode, is_encoded
from ._fieldtext import field_numbers, field_words
from ._h5 import StepSet, fill_value
from ._rules import WriterStateError
from ._sources import Sample, SourceReader, client_value
from ._types import NX_TYPES, convert, dtype_of

__all__ = ["INVALID", "RecordValues", "Rows"]

#: NeXus types stored as float64 (a JSON float goes in as it is)
_FLOAT64 = frozenset(t for t, d in NX_TYPES.items() if d == "f8")

INVALID = 3  # the severity of a point filled under CanFail


class RecordValues:
    """Values of INIT, STEP and FINAL fields and attributes, read and checked (a mixin of FileWriter)."""

    readers: dict[str, SourceReader]
    can_fail: bool
    _global: dict[str, Any]
    _decoders: dict[str, str]
    _failed: list[tuple[str, str, str]]
    _config: Config | None
    _pending: Config | None
    _steps: StepSet | None
    _learned: dict[str, tuple[int, ...]]  # path -> a point's shape read at OpenEntry

    def _nxs_error(self, path: str, source: Source, exc: Exception) -> str:
        """NXSDataWriter's text of a missing CLIENT value (its readers compare it); else ours."""
        if source.kind != "CLIENT" or not isinstance(exc, NotFoundError) or self._config is None and \
                self._pending is None:
            return str(exc)
        config = self._config or self._pending
        assert config is not None
        classes = {g.path: g.nx_class for g in config.groups}
        parts, here = [], ""
        for seg in path.strip("/").split("/"):
            here += "/" + seg
            parts.append(f"{seg}:{classes[here]}" if here in classes else seg)
        return str((f"Data for /{'/'.join(parts)} not found. DATASOURCE: CLIENT record {source.record}",
                    "Data without value"))

    def _read(self, source: Source, local: Mapping[str, Any], where: str) -> Sample:
        if isinstance(source, _Const):
            return Sample(source.value)
        if source.kind == "CLIENT":
            return client_value(source, local, self._global, where)
        if source.kind == "PYEVAL":
            assert source.expression is not None
            values = {name: self._read(inp, local, f"{where} input {name!r}").value for name, inp in source.inputs}
            return Sample(source.expression.evaluate(values))
        if source.kind == "TANGO" and source.params.get("group") == "__CLIENT__":
            for key in _client_keys(source):  # NXSDataWriter: a client-supplied value wins
                if key in local:
                    return Sample(local[key])
                if key in self._global:
                    return Sample(self._global[key])
        reader = self.readers.get(source.kind)
        if reader is None:
            raise ValidationError(f"{where}: this writer has no reader for {source.kind} sources")
        try:
            sample = reader.read(source)
            if is_encoded(sample.value):  # Tango DevEncoded: NXSDataWriter's built-in decoders
                sample = replace(sample, value=decode(sample.value, source.params.get("encoding"), self._decoders,
                                                      where))
            return sample
        except CtlshellError as exc:
            raise type(exc)(f"{where}: {exc}") from None
        except Exception as exc:  # a reader's own failure (Tango, SQL...) refuses the record
            raise ValidationError(f"{where}: {source.kind} source {source.record or source.params.get('query')!r} "
                                  f"failed: {exc}") from None

    def _value(self, fl: Field, local: Mapping[str, Any]) -> tuple[Any, Sample]:
        assert fl.source is not None
        try:
            sample = self._read(fl.source, local, fl.path)
            value = convert(sample.value, dtype_of(fl.nx_type), fl.shape, f"{fl.path} ({fl.nx_type})")
            if sample.severity is None and fl.strategy == "STEP" and (fl.canfail or self.can_fail):
                sample = replace(sample, severity=0)  # its severity dataset marks the failed points
            return value, sample
        except WriterStateError:
            raise
        except CtlshellError as exc:
            if not (fl.canfail or self.can_fail):
                raise
            self._failed.append((fl.path, str(exc), self._nxs_error(fl.path, fl.source, exc)))  # marked once written
            return fill_value(fl.nx_type, self._point_shape(fl)), Sample(None, None, INVALID)

    def _step_value(self, fl: Field, local: Mapping[str, Any]) -> tuple[Any, Sample]:
        """A STEP value; a CLIENT list of one more dimension than the field is several points
        (NXSDataWriter's growing)."""
        if fl.source is not None and fl.source.kind == "CLIENT":
            name = fl.source.record
            raw = local[name] if name in local else self._global.get(name)
            if type(raw) is float and not fl.shape and fl.nx_type in _FLOAT64 and not (fl.canfail or self.can_fail):
                return raw, _UNSTAMPED  # a JSON number into a float64 scalar: nothing to convert or check
            if isinstance(raw, list) and raw and _ndim(raw) == len(fl.shape) + 1 and \
                    dtype_of(fl.nx_type) != "str" or (not fl.shape and isinstance(raw, list) and raw):
                rows = [self._value(replace(fl, source=_Const(v)), local)[0] for v in raw]  # type: ignore[arg-type]
                return Rows(rows), Sample(raw)
        return self._value(fl, local)

    def _point_shape(self, fl: Field) -> tuple[int, ...]:
        """The shape of one point of ``fl``: its dataset's once the data has given it, else
        the one its source gave at OpenEntry."""
        if self._steps is not None and fl.path in self._steps.rows:
            shape = list(self._steps.rows[fl.path][0].shape)
            shape.pop(fl.grows - 1)
            return tuple(shape)
        return self._learned.get(fl.path, fl.shape)

    def _learn_shapes(self, config: Config) -> None:
        """Read once, at OpenEntry, the sources of STEP and FINAL fields shaped by their data
        that may fail, so a point filled under CanFail has the data's shape (as NXSDataWriter,
        which sizes such a field from its source's first reading). A failure here is not one."""
        self._learned = {}
        for fl in config.fields:
            if fl.strategy in ("STEP", "FINAL") and fl.shape_from_data and fl.source is not None \
                    and fl.source.kind not in ("CLIENT", "PYEVAL") and (fl.canfail or self.can_fail):
                try:
                    self._learned[fl.path] = tuple(np.shape(self._read(fl.source, {}, fl.path).value))
                except CtlshellError:
                    pass

    def _attr_read(self, owner: str, a: Attr, local: Mapping[str, Any]) -> Any:
        if a.source is None:
            return a.text
        try:
            return self._read(a.source, local, f"{owner}@{a.name}").value
        except WriterStateError:
            raise
        except CtlshellError as exc:
            if not (a.canfail or self.can_fail):
                raise
            self._failed.append((owner, str(exc), self._nxs_error(owner, a.source, exc)))
            return fill_value(a.nx_type, a.shape)

    def _once(self, config: Config, mode: str, local: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every value of ``mode`` (INIT/FINAL) read and checked before anything is written."""
        out: list[tuple[Any, ...]] = []
        for fl in config.fields:
            if fl.strategy == "POSTRUN":
                continue  # written empty by open_entry
            if fl.strategy == mode or (mode == "INIT" and fl.strategy is None):
                if fl.source is None:
                    text = field_words(fl.text, fl) if dtype_of(fl.nx_type) == "str" else field_numbers(fl.text, fl)
                    out.append(("field", fl, convert(text, dtype_of(fl.nx_type), fl.shape, fl.path), None))
                else:
                    out.append(("field", fl, *self._value(fl, local)))
            if fl.strategy == "FINAL":  # its attributes can only go on once it exists
                out += self._attrs(fl.path, fl.attrs, "FINAL", local, every=mode == "FINAL")
            else:
                out += self._attrs(fl.path, fl.attrs, mode, local)
        for g in config.groups:
            out += self._attrs(g.path, g.attrs, mode, local)
        return out

    def _attrs(self, owner: str, attrs: Any, mode: str, local: Mapping[str, Any],
               every: bool = False) -> list[tuple[Any, ...]]:
        out = []
        for a in attrs:
            if a.strategy == mode or every:
                value = self._attr_read(owner, a, local)
                out.append(("attr", owner, a, value))
        return out

    def _step_attrs(self, local: Mapping[str, Any], triggers: list[str]) -> list[tuple[str, Any, Any]]:
        """The STEP attributes of this record (rewritten at every record, as by NXSDataWriter)."""
        assert self._config is not None
        out = []
        owners = [(fl.path, fl.attrs, fl.trigger) for fl in self._config.fields] + \
                 [(g.path, g.attrs, None) for g in self._config.groups]
        for path, attrs, trigger in owners:
            if trigger is not None and trigger not in triggers:
                continue
            for a in attrs:
                if a.strategy == "STEP":
                    value = self._attr_read(path, a, local)
                    out.append((path, a, value))
        return out


def _client_keys(source: Source) -> list[str]:
    """The JSON keys NXSDataWriter tries for a TANGO source of group ``__CLIENT__``."""
    p = source.params
    db_host = os.environ.get("TANGO_HOST", "").split(",")[0].rpartition(":")[0]
    host, port, device = p.get("hostname") or db_host, p.get("port", ""), p.get("name", "")
    keys = []
    if host and port:
        for h in dict.fromkeys([host, host.split(".")[0], socket.getfqdn(host)]):
            for k in (f"{h}:{port}/{device}/{source.record.lower()}", f"{h}:{port}/{device}"):
                keys += [f"tango://{k}", k]
    if p.get("ds_name"):
        keys.append(p["ds_name"])
    return keys


def _ndim(value: Any) -> int:
    n = 0
    while isinstance(value, list) and value:
        n, value = n + 1, value[0]
    return n


_UNSTAMPED = Sample(None)  # a CLIENT point: no timestamp, no severity (the value travels beside it)


class Rows(list[Any]):
    """Several points of one scalar field given in one record."""


@dataclass(frozen=True)
class _Const:
    """One value of a record's list, read as the field's source."""

    value: Any
    kind: str = "CONST"

