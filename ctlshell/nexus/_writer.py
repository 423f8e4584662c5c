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

This module owns the commands and the HDF5 file's life (entries, SWMR, StepsPerFile
splits); the rules table and the data-directory check are in :mod:`._rules`, reading
and checking a record's values in :mod:`._values`, the layout helpers in :mod:`._h5`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import h5py
import numpy as np

from ..core import CtlshellError, ValidationError
from ._config import Config, Link, parse_config
from ._metadata import check_metadata_output, write_metadata
from ._h5 import STAMPS, StepSet, log_text, mark_failed, now, open_h5, open_logs, postrun_field, set_attr, write_once
from ._rules import HINT, RULES, WriterStateError, resolve_path
from ._sources import SourceReader, parse_record
from ._values import RecordValues, Rows

__all__ = ["FileWriter", "WriterStateError", "resolve_path"]


class FileWriter(RecordValues):
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
        self._learned: dict[str, tuple[int, ...]] = {}
        self._metadata: tuple[str, ...] = ()  # NXSDataWriter's MetadataOutput ("file": NAME.ENTRY.json)

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

    @property
    def metadata_output(self) -> str:
        """NXSDataWriter's ``MetadataOutput``: "file" writes ``NAME.ENTRY.json`` at CloseEntry."""
        return ",".join(self._metadata)

    @metadata_output.setter
    def metadata_output(self, value: str) -> None:
        self._metadata = check_metadata_output(value)

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

    def _readable(self) -> None:
        """Let other processes read (SWMR) until objects must be added again."""
        assert self._file is not None
        self._file.flush()
        try:
            self._file.swmr_mode = True
        except (OSError, ValueError):
            pass  # a file of an older HDF5 format: readable once closed


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
        # NXSDataWriter's SkipAcquisition: an entry already in the file is reattached to
        # (nothing of it rewritten, records appended); without it, refused
        reattach = bool(clash) and self.skip_acquisition
        if clash and not reattach:
            raise ValidationError(f"{', '.join('/' + c for c in clash)} already in {self._file_name}; "
                                  "give the entry another name, or set SkipAcquisition to append to it")
        if reattach:
            self._check_reattach(config)
        config = self._with_source_units(config)
        self._failed, self._pending = [], config
        self._learn_shapes(config)
        items = [] if self.skip_acquisition else self._once(config, "INIT", {})  # SkipAcquisition: INIT not read
        self._reopen()
        try:
            f = self._file
            for g in config.groups:
                f.require_group(g.path).attrs["NX_class"] = g.nx_class
            for fl in config.fields:
                if fl.strategy == "POSTRUN" and fl.path not in f:
                    postrun_field(f, fl)
            self._write_once(items, config)
            for link in config.links:
                if link.path not in f:
                    f[link.path] = self._link(link)
            self._entries += 1
            log_text(f, f"{self._logs}/nexus__entry__{self._entries}_xml", self._xml, "CONFIG",
                     '<datasource name="nxsdatawriter_xmlsettings" type="" />')
            self._mark("INIT")
            self._readable()
        except OSError as exc:
            self._io(exc)
        except Exception as exc:  # nothing of the entry stays behind (a reattached one stays as it was)
            for t in tops:
                if not reattach:
                    self._file.pop(t, None)
            self._file.pop(f"{self._logs}/nexus__entry__{self._entries}_xml", None)
            self._failed = []
            if isinstance(exc, CtlshellError):
                raise
            raise ValidationError(f"the entry could not be written: {exc}") from exc
        self._config, self._pending, self.state, self.records = config, None, after, 0
        self.skip_acquisition = False
        self._base, self._splits, self._split_times = self._file_name, [], []
        if self._steps_per_file:  # NXSDataWriter: records go to NAME_00001.h5, ... copies of this file
            self._split_to(1)

    def _check_reattach(self, config: Config) -> None:
        """An entry reattached to must hold every STEP field of ``config`` as a growing
        dataset of the field's type, or nothing of the configuration's own: refused, else."""
        assert self._file is not None
        for fl in config.step_fields():
            ds = self._file.get(fl.path)
            if ds is None:
                continue  # made by the first record, as in a new entry
            if not isinstance(ds, h5py.Dataset) or ds.maxshape[fl.grows - 1] is not None:
                raise ValidationError(f"cannot append to {fl.path} in {self._file_name}: "
                                      "it is not a growing dataset of a STEP field")

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
        if self.skip_acquisition:  # NXSDataWriter's SkipAcquisition: this record is not acquired
            self.skip_acquisition = False
            return
        assert self._config is not None and self._steps is not None
        local, triggers = rec["data"], rec["triggers"]
        self._failed = []
        points = [(fl, *self._step_value(fl, local)) for fl in self._config.step_fields()
                  if fl.trigger is None or fl.trigger in triggers]
        attrs = self._step_attrs(local, triggers)
        try:
            new = {fl.path: np.shape(value[0] if isinstance(value, Rows) else value)
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

    def close_entry(self) -> None:
        """Write the FINAL values and close the entry (the file stays open); with
        SkipAcquisition set, the FINAL values are not read (the flag is reset)."""
        after = self._check("close_entry")
        assert self._config is not None
        self._failed = []
        items = [] if self.skip_acquisition else self._once(self._config, "FINAL", {})
        self.skip_acquisition = False
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
        if self._metadata:
            self._write_metadata(self._config)
        self._config, self._steps, self.state = None, None, after

    def _write_metadata(self, config: Config) -> None:
        """MetadataOutput=file: the entry's SciCat JSON beside the file; a failure is
        reported in ``last_error`` (the entry itself is complete)."""
        assert self._file is not None
        entries = [g.path.strip("/") for g in config.groups if g.path.count("/") == 1 and g.nx_class == "NXentry"]
        try:
            write_metadata(self._file, self._file_name, entries)
        except Exception as exc:  # nxstools' own failure: the HDF5 file is the record, it is whole
            self.last_error = f"metadata of {', '.join(entries)} not written: {exc}"

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
