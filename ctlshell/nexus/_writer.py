"""The writer core: NXSDataWriter's state machine over one HDF5 file, no Tango inside.

State rules (the device and ``%nxwrite`` show the same states)::

    ON  --open_file-->  OPEN  --open_entry-->  EXTRACT  --record-->  EXTRACT
    EXTRACT --close_entry--> OPEN   --close_file--> ON      FAULT --close_file--> ON

A command in another state raises :class:`WriterStateError` and changes nothing. Bad
input (XML, JSON, a missing or mistyped value, a path outside the data directory)
raises :class:`~ctlshell.core.ValidationError` and changes nothing: the record is not
written, the file stays valid, the next good record goes in. Only an HDF5 I/O failure
turns the state to FAULT. Sources other than CLIENT are read through the readers
passed in (``{"TANGO": reader, "DB": reader, "CHANNEL": reader}``).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import h5py
import numpy as np

from ..core import CtlshellError, NotFoundError, ValidationError
from ._config import Attr, Config, Field, Link, Source, parse_config
from ._h5 import (STAMPS, StepSet, fill_value, log_text, mark_failed, now, open_h5, open_logs, postrun_field, set_attr,
                  write_once)
from ._decoders import decode, is_encoded
from ._sources import Sample, SourceReader, client_value, parse_record
from ._types import convert, dtype_of

__all__ = ["FileWriter", "WriterStateError", "resolve_path"]

INVALID = 3  # the severity of a point filled under CanFail

RULES: dict[str, tuple[frozenset[str], str]] = {
    "open_file": (frozenset({"ON"}), "OPEN"),
    "open_entry": (frozenset({"OPEN"}), "EXTRACT"),
    "record": (frozenset({"EXTRACT"}), "EXTRACT"),
    "close_entry": (frozenset({"EXTRACT"}), "OPEN"),
    "close_file": (frozenset({"OPEN", "EXTRACT", "FAULT"}), "ON"),
}
HINT = {"ON": "no file is open (OpenFile first)", "OPEN": "a file is open, no entry (OpenEntry first)",
        "EXTRACT": "an entry is open (CloseEntry first)", "FAULT": "the writer failed (CloseFile resets it)"}


class WriterStateError(CtlshellError, RuntimeError):
    """A writer command given in a state that does not allow it."""


def resolve_path(name: str, data_dir: str | None) -> str:
    """The absolute path of ``name`` (relative names are taken inside ``data_dir``).

    Raises
    ------
    ValidationError
        Empty, or outside ``data_dir`` once links and ``..`` are resolved.
    """
    if not name or not name.strip():
        raise ValidationError("no file name given")
    if data_dir is None:
        return os.path.abspath(name)
    root = os.path.realpath(data_dir)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, path]) != root or path == root:
        raise ValidationError(f"{name!r} is outside the writer's data directory {root}; refused")
    return path


class FileWriter:
    """One NeXus file written from an XML configuration and JSON records.

    Parameters
    ----------
    readers : mapping of str to SourceReader, optional
        Readers of the TANGO, DB and CHANNEL sources.
    data_dir : str, optional
        When given, files may only be written under it.
    """

    def __init__(self, readers: Mapping[str, SourceReader] | None = None, data_dir: str | None = None) -> None:
        self.readers = dict(readers or {})
        self.data_dir = data_dir
        self.state = "ON"
        self.last_error = ""
        self.records = 0
        self._file_name = ""
        self._given_name = ""
        self._xml = ""
        self._json = "{}"  # what NXSDataWriter reads back before any record is set
        self._global: dict[str, Any] = {}
        self._datasources: dict[str, str] = {}  # "datasources" of the global record
        self._decoders: dict[str, str] = {}  # its "decoders": name -> built-in decoder
        self._config: Config | None = None
        self._file: h5py.File | None = None
        self._steps: StepSet | None = None
        self._deferred: list[tuple[Any, ...]] = []  # attributes waiting for their dataset
        #: CanFail (NXSDataWriter's attribute): a failed source gives a marked fill value
        self.can_fail = False
        self._steps_per_file = 0
        self.current_file_id = 0
        self._base = ""  # StepsPerFile: the file OpenEntry wrote, copied into each split file
        self._splits: list[str] = []
        self._split_times: list[str] = []
        self.skip_acquisition = False
        self._failed: list[tuple[str, str, str]] = []  # (path, our error, NXSDataWriter's text)
        self._pending: Config | None = None  # the configuration OpenEntry is writing
        self.failures: list[str] = []  # every CanFail failure since OpenFile, as logged
        self._logs = ""  # /nexus_logs/configuration[_N] of this OpenFile
        self._entries = 0

    # -- attributes (FileName, XMLSettings, JSONRecord) ---------------------------
    @property
    def file_name(self) -> str:
        return self._file_name

    @file_name.setter
    def file_name(self, name: str) -> None:
        if self.state != "ON":
            raise WriterStateError(f"FileName can only change with no file open; the writer is {self.state}: "
                                   f"{HINT[self.state]}")
        self._file_name = resolve_path(name, self.data_dir)
        self._given_name = name

    @property
    def xml(self) -> str:
        return self._xml

    @xml.setter
    def xml(self, text: str) -> None:
        parse_config(text, None)  # refuse a bad configuration now, with its line and column
        self._xml = text

    @property
    def json_record(self) -> str:
        return self._json

    @json_record.setter
    def json_record(self, text: str) -> None:
        rec = parse_record(text, "global JSONRecord")
        self._global, self._datasources, self._decoders = rec["data"], rec["datasources"], rec["decoders"]
        self._json = text

    @property
    def steps_per_file(self) -> int:
        return self._steps_per_file

    @steps_per_file.setter
    def steps_per_file(self, n: int) -> None:
        if n < 0:
            raise ValidationError(f"StepsPerFile must be 0 (one file) or a positive number of records, not {n}")
        self._steps_per_file = int(n)

    # -- commands ------------------------------------------------------------------
    def _check(self, command: str) -> str:
        allowed, after = RULES[command]
        if self.state not in allowed:
            raise WriterStateError(f"{command} is not allowed now: the writer is {self.state}, "
                                   f"{HINT[self.state]}")
        return after

    def _io(self, exc: BaseException) -> None:
        self.state, self.last_error = "FAULT", f"HDF5 write failed: {exc}"
        raise CtlshellError(self.last_error) from exc

    def open_file(self) -> None:
        """Create the file (or open an HDF5 file there to add entries)."""
        after = self._check("open_file")
        if not self._file_name:
            raise ValidationError("set FileName before OpenFile")
        self._file = open_h5(self._file_name, self._given_name)
        self._logs, self._entries, self.failures = open_logs(self._file), 0, []
        self._readable()
        self.state, self.records, self.last_error = after, 0, ""

    def _mark(self, when: str) -> None:
        """Mark the objects filled under CanFail (NXSDataWriter's attributes) and keep the log."""
        assert self._file is not None
        for path, error, theirs in self._failed:
            self.failures.append(f"entry {self._entries}, {when}: {path}: {error}")
            if path in self._file:
                mark_failed(self._file[path], theirs)
        self._failed = []

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

    def _readable(self) -> None:
        """Let other processes read (SWMR) until objects must be added again."""
        assert self._file is not None
        self._file.flush()
        try:
            self._file.swmr_mode = True
        except (OSError, ValueError):
            pass  # a file of an older HDF5 format: readable once closed

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
            raw = local.get(fl.source.record, self._global.get(fl.source.record))
            if isinstance(raw, list) and raw and _ndim(raw) == len(fl.shape) + 1 and \
                    dtype_of(fl.nx_type) != "str" or (not fl.shape and isinstance(raw, list) and raw):
                rows = [self._value(replace(fl, source=_Const(v)), local)[0] for v in raw]  # type: ignore[arg-type]  # _Const stands in for a Source
                return _Rows(rows), Sample(raw)
        return self._value(fl, local)

    def _point_shape(self, fl: Field) -> tuple[int, ...]:
        """The shape of one point of ``fl``: its dataset's once the data has given it."""
        if self._steps is not None and fl.path in self._steps.rows:
            shape = list(self._steps.rows[fl.path][0].shape)
            shape.pop(fl.grows - 1)
            return tuple(shape)
        return fl.shape

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
                    text = _words(fl.text, fl) if dtype_of(fl.nx_type) == "str" else _number(fl.text, fl)
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

    def _write_once(self, items: list[tuple[Any, ...]], config: Config | None = None) -> None:
        assert self._file is not None
        for item in items:
            if item[0] == "field":
                write_once(self._file, item[1], item[2], item[3])
        if config is not None:  # STEP datasets before the attributes that may sit on them
            self._steps = StepSet(self._file, config, can_fail=self.can_fail)
        for item in items:
            if item[0] == "attr":
                if item[1] in self._file:
                    set_attr(self._file[item[1]], item[2], item[3])
                else:  # on a field shaped by its data: set once its first record creates it
                    self._deferred.append(item)

    def open_entry(self) -> None:
        """Parse XMLSettings, write the tree and INIT values, then let readers in (SWMR).

        Raises
        ------
        WriterStateError
            No file open, or an entry is open already.
        ValidationError
            Bad configuration, an INIT value missing or mistyped, or a top-level group
            of the configuration already in the file: nothing is written.
        """
        after = self._check("open_entry")
        if not self._xml:
            raise ValidationError("set XMLSettings before OpenEntry")
        config = parse_config(self._xml, self._datasources)
        assert self._file is not None
        tops = {g.path.split("/")[1] for g in config.groups}
        clash = sorted(t for t in tops if t in self._file)
        if clash:
            raise ValidationError(f"{', '.join('/' + c for c in clash)} already in {self._file_name}; "
                                  "give the entry another name")
        config = self._with_source_units(config)
        self._failed, self._pending = [], config
        items = self._once(config, "INIT", {})
        self._reopen()
        try:
            f = self._file
            for g in config.groups:
                f.require_group(g.path).attrs["NX_class"] = g.nx_class
            for fl in config.fields:
                if fl.strategy == "POSTRUN":
                    postrun_field(f, fl)
            self._write_once(items, config)
            for link in config.links:
                f[link.path] = self._link(link)
            self._entries += 1
            log_text(f, f"{self._logs}/nexus__entry__{self._entries}_xml", self._xml, "CONFIG",
                     '<datasource name="nxsdatawriter_xmlsettings" type="" />')
            self._mark("INIT")
            self._readable()
        except OSError as exc:
            self._io(exc)
        except Exception as exc:  # nothing of the entry stays behind
            for t in tops:
                self._file.pop(t, None)
            self._file.pop(f"{self._logs}/nexus__entry__{self._entries}_xml", None)
            self._failed = []
            if isinstance(exc, CtlshellError):
                raise
            raise ValidationError(f"the entry could not be written: {exc}") from exc
        self._config, self._pending, self.state, self.records = config, None, after, 0
        self._base, self._splits, self._split_times = self._file_name, [], []
        if self._steps_per_file:  # NXSDataWriter: records go to NAME_00001.h5, ... copies of this file
            self._split_to(1)

    def _link(self, link: Link) -> h5py.SoftLink | h5py.ExternalLink:
        """A soft link in this file, or an external link to a file inside the data directory."""
        if link.file is None:
            return h5py.SoftLink(link.target)
        here = os.path.dirname(self._file_name)
        other = resolve_path(os.path.join(here, link.file), self.data_dir)
        if other == os.path.realpath(self._file_name):
            return h5py.SoftLink(link.target)
        return h5py.ExternalLink(os.path.relpath(other, here), link.target)

    def _with_source_units(self, config: Config) -> Config:
        """Fields without units in the XML take them from their source, if it tells."""
        fields = []
        for fl in config.fields:
            ask = getattr(self.readers.get(fl.source.kind), "units", None) if fl.source and fl.units is None \
                else None
            if ask is not None:
                try:
                    fl = replace(fl, units=ask(fl.source) or None)
                except Exception:  # units are a nicety; reading the value will say what is wrong
                    pass
            fields.append(fl)
        return replace(config, fields=tuple(fields))

    def _reopen(self) -> None:
        """A file in SWMR mode cannot get new objects: reopen it plainly."""
        assert self._file is not None
        if self._file.swmr_mode:
            self._file.close()
            self._file = h5py.File(self._file_name, "r+", libver="latest")

    def record(self, text: str | Mapping[str, Any] | None = None) -> None:
        """Write one STEP point of every field (those with a trigger only when it is listed).

        Parameters
        ----------
        text : str or mapping, optional
            The local JSON record ``{"data": {name: value}, "triggers": [...]}``; CLIENT
            values missing from it are taken from the global JSONRecord.

        Raises
        ------
        WriterStateError
            No entry is open.
        ValidationError, NotFoundError
            Bad JSON, a missing or mistyped value, a source that failed: nothing of the
            record is written and the state stays EXTRACT.
        CtlshellError
            HDF5 failed: the state is FAULT (CloseFile resets it).
        """
        self._check("record")
        rec = parse_record(text)
        assert self._config is not None and self._steps is not None
        local, triggers = rec["data"], rec["triggers"]
        self._failed = []
        points = [(fl, *self._step_value(fl, local)) for fl in self._config.step_fields()
                  if fl.trigger is None or fl.trigger in triggers]
        attrs = self._step_attrs(local, triggers)
        try:
            new = {fl.path: np.shape(value[0] if isinstance(value, _Rows) else value)
                   for fl, value, _ in points if fl.path in self._steps.pending}
            assert self._file is not None
            grow = bool(new or self._failed) or any(a.name not in self._file[o].attrs for o, a, _ in attrs
                                                    if o in self._file)
            if grow:  # new datasets or attributes: not in SWMR mode, so reopen (rare: first records, failures)
                self._reopen()
                self._steps = StepSet(self._file, self._config, {**self._steps.shapes, **new}, self._steps.can_fail)
                for _, owner, attr, value in [d for d in self._deferred if d[1] in self._file]:
                    set_attr(self._file[owner], attr, value)
                self._deferred = [d for d in self._deferred if d[1] not in self._file]
            try:
                self._steps.append(points)  # all points or none
                for owner, attr, value in attrs:
                    set_attr(self._file[owner], attr, value)
                self._mark(f"record {self.records + 1}")
            finally:
                if grow:
                    self._readable()
        except OSError as exc:
            self._io(exc)
        except (TypeError, ValueError) as exc:  # e.g. text h5py cannot encode
            raise ValidationError(f"record refused: {exc}") from None
        self.records += 1
        if self._steps_per_file and self.records % self._steps_per_file == 0:
            self._split_to(self.current_file_id + 1)

    def _split_to(self, n: int) -> None:
        """Go on in split file ``n`` (StepsPerFile): a copy of the file as OpenEntry left it."""
        assert self._file is not None and self._config is not None and self._steps is not None
        try:
            self._file.close()
            stem, ext = os.path.splitext(self._base)
            target = f"{stem}_{n:05d}{ext}"
            if n > len(self._splits):
                shutil.copy2(self._base, target)
                self._splits.append(target)
                self._split_times.append(now())
            self._file_name, self.current_file_id = target, n
            self._file = h5py.File(target, "r+", libver="latest")
            self._steps = StepSet(self._file, self._config, self._steps.shapes, self._steps.can_fail)
            self._readable()
        except OSError as exc:
            self._io(exc)

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

    def close_entry(self) -> None:
        """Write the FINAL values and close the entry (the file stays open)."""
        after = self._check("close_entry")
        assert self._config is not None
        self._failed = []
        items = self._once(self._config, "FINAL", {})
        try:
            if self._splits:  # as NXSDataWriter: drop the template and an empty last file
                assert self._file is not None
                self._file.close()
                os.remove(self._base)
                if self.records % self._steps_per_file == 0 and len(self._splits) > 1:
                    os.remove(self._splits.pop())
                for k in range(len(self._splits), 0, -1):  # FINAL in every file, the last first
                    self._file_name, self.current_file_id = self._splits[k - 1], k
                    self._file = h5py.File(self._file_name, "r+", libver="latest")
                    self._final(items)
                    stem, ext = os.path.splitext(self._given_name)
                    self._file.attrs["file_name"] = f"{stem}_{k:05d}{ext}"  # as NXSDataWriter names each
                    if len(self._splits) > 1:
                        self._file.attrs["file_time"] = self._split_times[k - 1]
                    if k > 1:
                        self._file.close()
            else:
                self._final(items)
            self._readable()
        except OSError as exc:
            self._io(exc)
        self._config, self._steps, self.state = None, None, after

    def _final(self, items: list[tuple[Any, ...]]) -> None:
        assert self._file is not None
        self._reopen()
        self._write_once(items)
        self._mark("FINAL")
        mine = [t for t in self.failures if t.startswith(f"entry {self._entries},")]
        if mine:  # the CanFail log of the entry, next to its configuration
            log_text(self._file, f"{STAMPS}/canfail_{os.path.basename(self._logs)}_entry_{self._entries}",
                     "\n".join(mine),
                     "CANFAIL", '<datasource name="ctlshell_canfail" type="" />')
        self._file.attrs["file_update_time"] = now()

    def close_file(self) -> None:
        """Close the file (an open entry is closed first; FAULT is reset)."""
        self._check("close_file")
        error: CtlshellError | None = None
        if self.state == "EXTRACT":
            try:
                self.close_entry()
            except CtlshellError as exc:
                error = exc
        if self._file is not None:
            try:
                self._file.close()
            finally:
                self._file = None
        self._config, self._steps, self.state = None, None, "ON"
        if self._splits:
            self._file_name, self._splits, self.current_file_id = self._base, [], 0
        if error is not None:
            raise type(error)(f"file closed, but its entry could not be finished: {error}")

    def status(self) -> str:
        """One line: state, file, records written, the last error."""
        text = {"ON": "ready, no file open", "OPEN": f"file {self._file_name} open",
                "EXTRACT": f"recording into {self._file_name}: {self.records} records",
                "FAULT": "failed"}[self.state]
        return f"{self.state}: {text}" + (f"; last error: {self.last_error}" if self.last_error else "")


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


class _Rows(list):
    """Several points of one scalar field given in one record."""


@dataclass(frozen=True)
class _Const:
    """One value of a record's list, read as the field's source."""

    value: Any
    kind: str = "CONST"


def _words(text: str, fl: Field) -> Any:
    """A text field's value: the text, or its words (one row a line for an image)."""
    if not fl.shape:
        return text
    rows = [line.split() for line in text.splitlines() if line.strip()]
    if len(fl.shape) == 2 and len(rows) > 1 and len({len(r) for r in rows}) == 1:
        return rows
    words = text.split()
    if 0 not in fl.shape and len(words) == int(np.prod(fl.shape)):
        return np.asarray(words, dtype=object).reshape(fl.shape).tolist()
    return words


def _number(text: str, fl: Field) -> Any:
    kind = dtype_of(fl.nx_type)

    def one(t: str) -> Any:
        if kind == "bool":
            if t.lower() not in _BOOLS:
                raise ValueError(t)
            return _BOOLS[t.lower()]
        return float(t) if kind[0] == "f" else int(t)

    try:
        values = [one(t) for t in text.split()]
        rows = [[one(t) for t in line.split()] for line in text.splitlines() if line.strip()]
    except ValueError:
        raise ValidationError(f"{fl.path} ({fl.where}): text {text!r} is not {fl.nx_type}") from None
    if not fl.shape:
        return values[0] if len(values) == 1 else values
    known = [n for n in fl.shape if n]
    if len(known) == len(fl.shape) and int(np.prod(known)) == len(values):
        return np.asarray(values).reshape(fl.shape)
    if len(fl.shape) == 1:
        return values
    if len(fl.shape) == 2 and len(rows) > 1 and len({len(r) for r in rows}) == 1:  # one row a line
        return np.asarray(rows)
    if len(known) == len(fl.shape) - 1 and values and len(values) % max(1, int(np.prod(known))) == 0:
        return np.asarray(values).reshape([n or -1 for n in fl.shape])
    return values


_BOOLS = {"true": True, "false": False, "1": True, "0": False}
