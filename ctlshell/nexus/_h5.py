"""The HDF5 side of the writer: files, the entry tree, one-shot fields and the
appending of one point to every STEP dataset -- all with h5py, nothing else.

Layout follows NXSDataWriter (same groups, fields, shapes, dtypes, ``NX_class``,
``units`` and ``type`` attributes), so files of both are read alike. Files use
``libver="latest"`` so the writer can switch to SWMR: another process may read while
points are appended, and the file is flushed after every point.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from dataclasses import replace
from typing import Any

import h5py
import numpy as np
from h5py import h5s, h5t

from ..core import ValidationError
from ._config import Attr, Config, Field
from ._sources import STAMPED, Sample
from ._types import STRING, convert, dtype_of

__all__ = ["STAMPS", "StepSet", "fill_value", "log_text", "mark_failed", "now", "open_h5", "open_logs",
           "postrun_field", "set_attr", "stamp_path", "write_once"]

_STR = h5py.string_dtype("utf-8")
_CHUNK_BYTES = 16384  # rows per chunk: about 16 kB, so a per-point flush rewrites little


def open_h5(path: str, name: str | None = None) -> h5py.File:
    """Create ``path`` (or append to an HDF5 file already there), ready for SWMR.

    Raises
    ------
    ValidationError
        ``path`` exists and is not an HDF5 file, or cannot be written.
    """
    try:
        if os.path.exists(path):
            if not h5py.is_hdf5(path):
                raise ValidationError(f"{path} exists and is not an HDF5 file; refusing to overwrite it")
            return h5py.File(path, "r+", libver="latest")
        f = h5py.File(path, "w-", libver="latest")
    except OSError as exc:
        raise ValidationError(f"cannot open {path} for writing: {exc}") from None
    f.attrs["file_time"] = now()
    f.attrs["HDF5_Version"] = h5py.version.hdf5_version
    f.attrs["NX_class"] = "NXroot"
    f.attrs["file_name"] = name or path  # as the client gave it (NXSDataWriter)
    f.attrs["file_update_time"] = now()
    return f


def now() -> str:
    """Local time as NXSDataWriter writes it in ``file_time`` / ``file_update_time``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000%z")


def open_logs(f: h5py.File) -> str:
    """NXSDataWriter's ``/nexus_logs/configuration[_N]`` group of one OpenFile; its path."""
    logs = f.require_group("nexus_logs")
    names = itertools.chain(["configuration"], (f"configuration_{i}" for i in itertools.count(2)))
    name = next(c for c in names if c not in logs)
    group = logs.create_group(name)
    group.create_dataset("python_version", data=sys.version, dtype=_STR)
    return group.name


def log_text(f: h5py.File, path: str, text: str, strategy: str, source: str) -> None:
    """One text of the run's log (an entry's XML, the CanFail failures) as NXSDataWriter logs it."""
    ds = f.create_dataset(path, data=text, dtype=_STR)
    ds.attrs["nexdatas_strategy"] = strategy
    ds.attrs["nexdatas_source"] = source


def _h5dtype(nx_type: str) -> Any:
    kind = dtype_of(nx_type)
    return _STR if kind == STRING else np.dtype(kind)


def _attr_value(attr: Attr, value: Any) -> Any:
    kind = dtype_of(attr.nx_type)
    if attr.shape and isinstance(value, str):  # an array written as text: values split at blanks
        rows = [line.split() for line in value.splitlines() if line.strip()]
        if len(attr.shape) == 2 and len(rows) > 1 and len({len(r) for r in rows}) == 1:  # one row a line
            attr = replace(attr, shape=(len(rows), len(rows[0])))
        items = [_attr_value(replace(attr, shape=()), t) for t in value.split()]
        try:
            return np.asarray(items, dtype=object if kind == STRING else kind).reshape(
                [-1 if n == 0 else n for n in attr.shape] if attr.shape.count(0) <= 1 else (-1,))
        except ValueError:
            raise ValidationError(f"attribute {attr.name!r} ({attr.where}): {len(items)} values do not fit the "
                                  f"shape {attr.shape}") from None
    if kind == STRING:
        if isinstance(value, (list, tuple, np.ndarray)):
            return np.asarray(value, dtype=_STR)
        return str(value)
    if isinstance(value, str):
        if kind == "bool" and value.strip().lower() in ("true", "false", "1", "0"):
            return np.asarray(value.strip().lower() in ("true", "1"))  # NXSDataWriter writes "True"
        try:
            return np.asarray(float(value) if kind[0] == "f" else int(value), dtype=kind)
        except ValueError:
            raise ValidationError(f"attribute {attr.name!r} ({attr.where}): {value!r} is not {attr.nx_type}") from None
    if isinstance(value, (list, tuple, np.ndarray)):  # checked as a field's value would be
        return np.asarray(convert(value, kind, tuple(np.shape(value)), f"attribute {attr.name!r} ({attr.where})"))
    return np.asarray(value, dtype=kind)


def fill_value(nx_type: str, shape: tuple[int, ...]) -> Any:
    """What NXSDataWriter stores for a failed source under CanFail: the type's maximum
    (False for booleans, "" for text), in the field's shape (a dimension from the data: 1)."""
    kind = dtype_of(nx_type)
    one: Any = "" if kind == STRING else False if kind == "bool" else \
        (np.iinfo(kind).max if kind[0] in "iu" else np.finfo(kind).max)
    if not shape:
        return one
    return np.full([max(1, n) for n in shape], one, dtype=object if kind == STRING else kind)


def mark_failed(obj: Any, error: str) -> None:
    """NXSDataWriter's CanFail mark on a dataset (errors appended one a line)."""
    old = obj.attrs.get("nexdatas_canfail_error")
    obj.attrs["nexdatas_canfail_error"] = f"{old}\n{error}" if old else error
    obj.attrs["nexdatas_canfail"] = "FAILED"


def set_attr(obj: Any, attr: Attr, value: Any) -> None:
    """Write one configured attribute on a group or dataset."""
    obj.attrs[attr.name] = _attr_value(attr, value)


#: where ctlshell keeps each value's server timestamp and severity: a tree mirroring the
#: entry's inside /nexus_logs, so the entry itself has NXSDataWriter's objects only
STAMPS = "/nexus_logs/ctlshell"


def stamp_path(path: str, suffix: str) -> str:
    """Where the ``_timestamp`` / ``_severity`` of the field at ``path`` are kept."""
    return f"{STAMPS}{path}{suffix}"


def _stamp_once(f: h5py.File, path: str, sample: Sample) -> None:
    for value, suffix, dt in ((sample.timestamp, "_timestamp", "f8"), (sample.severity, "_severity", "i1")):
        if value is not None:
            _describe(f.create_dataset(stamp_path(path, suffix), data=np.asarray([value], dtype=dt)), path, suffix)


def _describe(sd: Any, path: str, suffix: str) -> None:
    if suffix == "_timestamp":
        sd.attrs["units"] = "s"
        sd.attrs["long_name"] = f"server timestamp of {path} (seconds since 1970-01-01 UTC)"
    else:
        sd.attrs["long_name"] = f"alarm severity of {path} (0 none, 1 minor, 2 major, 3 invalid)"


def write_once(f: h5py.File, field: Field, value: Any, sample: Sample | None = None) -> Any:
    """Write a constant, INIT or FINAL field (numeric scalars as shape (1,), like NXSDataWriter)."""
    dtype = _h5dtype(field.nx_type)
    if dtype is _STR:
        ds = f.create_dataset(field.path, data=value, dtype=_STR)
    else:
        arr = np.asarray(value, dtype=dtype)
        ds = f.create_dataset(field.path, data=arr.reshape(1) if arr.ndim == 0 else arr)
    ds.attrs["type"] = field.nx_type
    if field.units is not None:
        ds.attrs["units"] = field.units
    _tag(ds, field)
    if sample is not None:
        _stamp_once(f, field.path, sample)
    return ds


def postrun_field(f: h5py.File, field: Field) -> Any:
    """A POSTRUN field as NXSDataWriter leaves it: empty, its source in ``postrun``."""
    ds = f.create_dataset(field.path, shape=(0, *[max(1, n) for n in field.shape]),
                          maxshape=(None, *[max(1, n) for n in field.shape]), dtype=_h5dtype(field.nx_type))
    ds.attrs["type"] = field.nx_type
    if field.units is not None:
        ds.attrs["units"] = field.units
    ds.attrs["postrun"] = field.postrun
    _tag(ds, field)
    return ds


def _tag(ds: Any, field: Field) -> None:
    for name, value in field.tags:
        ds.attrs[name] = value


class StepSet:
    """The STEP datasets of one entry; :meth:`append` adds one point to each, all or none.

    A field whose shape comes from the data (a 0 in ``Field.shape``) waits in
    :attr:`pending` until its first value gives the shape; the writer then builds a new
    StepSet with ``shapes`` (datasets already in the file are opened, not created).
    """

    def __init__(self, f: h5py.File, config: Config, shapes: dict[str, tuple[int, ...]] | None = None,
                 can_fail: bool = False) -> None:
        self.file = f
        self.fields = config.step_fields()
        self.shapes = dict(shapes or {})
        self.can_fail = can_fail
        self.pending: set[str] = set()
        self.rows: dict[str, list[Any]] = {}  # path -> [dataset, timestamp ds, severity ds]
        self.count: dict[str, int] = {}
        for fl in self.fields:
            shape = self.shapes.get(fl.path, fl.shape)
            if 0 in shape and fl.path not in f:  # shaped by its first record
                self.pending.add(fl.path)
                continue
            has_time, has_sev = STAMPED.get(fl.source.kind, (False, False)) if fl.source else (False, False)
            has_sev = has_sev or fl.canfail or can_fail  # a point filled under CanFail is marked INVALID
            if fl.path in f:  # made by an earlier StepSet of this entry
                self.rows[fl.path] = [f[fl.path], f.get(stamp_path(fl.path, "_timestamp")) if has_time else None,
                                      f.get(stamp_path(fl.path, "_severity")) if has_sev else None]
                self.count[fl.path] = f[fl.path].shape[fl.grows - 1]
                continue
            dtype = _h5dtype(fl.nx_type)
            itemsize = 16 if dtype is _STR else dtype.itemsize
            rows = max(1, min(4096, _CHUNK_BYTES // (itemsize * int(np.prod(shape, dtype=np.int64)))))
            g = fl.grows - 1  # the axis of the points (NXSDataWriter's grows="N")
            ds = f.create_dataset(fl.path, shape=(*shape[:g], 0, *shape[g:]), maxshape=(*shape[:g], None, *shape[g:]),
                                  dtype=dtype, chunks=(*shape[:g], rows, *shape[g:]),
                                  compression="gzip" if fl.compression else None,
                                  compression_opts=fl.compression, shuffle=fl.shuffle or None)
            ds.attrs["type"] = fl.nx_type
            if fl.units is not None:
                ds.attrs["units"] = fl.units
            _tag(ds, fl)
            entry = [ds, None, None]
            for i, (wanted, suffix, dt) in enumerate(((has_time, "_timestamp", "f8"), (has_sev, "_severity", "i1"))):
                if wanted:
                    sd = f.create_dataset(stamp_path(fl.path, suffix), shape=(0,), maxshape=(None,), dtype=dt,
                                          chunks=(4096,))
                    _describe(sd, fl.path, suffix)
                    entry[i + 1] = sd
            self.rows[fl.path] = entry
            self.count[fl.path] = 0

        fast = {id(t): _Appender(t) for fl in self.fields if fl.path in self.rows and fl.grows == 1
                      for t in self.rows[fl.path] if t is not None and t.dtype.kind in "fiu"}
        fast.update({id(t): _Appender(t) for entry in self.rows.values() for t in entry[1:]
                           if t is not None})
        grows = {fl.path: fl.grows for fl in self.fields}
        # per field, what each point writes: (0 value | 1 timestamp | 2 severity, dataset, axis, appender)
        self._plan = {path: [(what, t, grows[path] - 1 if what == 0 else 0, fast.get(id(t)))
                             for what, t in enumerate(entry) if t is not None]
                      for path, entry in self.rows.items()}

    def append(self, points: list[tuple[Field, Any, Sample]]) -> None:
        """Add one point to each listed field, then flush; on failure undo what was added."""
        done: list[tuple[Any, int, int]] = []
        try:
            for fl, value, sample in points:
                n = self.count[fl.path]
                plan = self._plan[fl.path]
                for row, one in enumerate(value if isinstance(value, list) else (value,)):  # a list: several points
                    for what, target, axis, fast in plan:
                        v = one if what == 0 else sample.timestamp if what == 1 else sample.severity
                        if v is None:
                            v = np.nan if what == 1 else -1
                        if fast is not None:
                            fast.put(n + row, v)
                        else:
                            target.resize(n + row + 1, axis=axis)
                            target[(slice(None),) * axis + (n + row,)] = v
                        if row == 0:
                            done.append((target, n, axis))
            self.file.flush()
        except BaseException:
            for target, n, axis in done:
                target.resize(n, axis=axis)
            raise
        for fl, value, _ in points:
            self.count[fl.path] += len(value) if isinstance(value, list) else 1


class _Appender:
    """Appends one row to a numeric dataset through h5py's low-level API (the high-level
    ``resize`` + ``__setitem__`` cost about ten times more per call)."""

    def __init__(self, ds: Any) -> None:
        self.id = ds.id
        self.row = tuple(ds.shape[1:])
        self.dtype = ds.dtype
        self.mspace = h5s.create_simple((1, *self.row))
        self.mtype = h5t.py_create(self.dtype)  # made once: h5py would make (and register) one per write
        self.start = (0,) * len(self.row)
        self.count = (1, *self.row)
        self.fspace = ds.id.get_space()
        self.maxdims = (h5s.UNLIMITED, *self.row)
        self.one = None if self.row else np.empty((1,), self.dtype)

    def put(self, n: int, value: Any) -> None:
        if self.one is not None:  # a scalar: into the buffer kept for it
            self.one[0] = value
            arr = self.one
        else:
            arr = np.ascontiguousarray(value, dtype=self.dtype).reshape(self.count)
        self.id.set_extent((n + 1, *self.row))
        self.fspace.set_extent_simple((n + 1, *self.row), self.maxdims)
        self.fspace.select_hyperslab((n, *self.start), self.count)
        self.id.write(self.mspace, self.fspace, arr, mtype=self.mtype)
