"""The HDF5 side of the writer: files, the entry tree, one-shot fields and the
appending of one point to every STEP dataset -- all with h5py, nothing else.

Layout follows NXSDataWriter (same groups, fields, shapes, dtypes, ``NX_class``,
``units`` and ``type`` attributes), so files of both are read alike. Files use
``libver="latest"`` so the writer can switch to SWMR: another process may read while
points are appended, and the file is flushed after every point.
"""

from __future__ import annotations

import os
import time
from typing import Any

import h5py
import numpy as np
from h5py import h5s

from ..core import ValidationError
from ._config import Attr, Config, Field
from ._sources import STAMPED, Sample
from ._types import STRING, dtype_of

__all__ = ["StepSet", "open_h5", "set_attr", "write_once"]

_STR = h5py.string_dtype("utf-8")
_CHUNK_BYTES = 16384  # rows per chunk: about 16 kB, so a per-point flush rewrites little


def open_h5(path: str) -> h5py.File:
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
    f.attrs["NX_class"] = "NXroot"
    f.attrs["file_name"] = path
    f.attrs["file_time"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    f.attrs["creator"] = "ctlshell nexus writer"
    return f


def _h5dtype(nx_type: str) -> Any:
    kind = dtype_of(nx_type)
    return _STR if kind == STRING else np.dtype(kind)


def _attr_value(attr: Attr, value: Any) -> Any:
    kind = dtype_of(attr.nx_type)
    if kind == STRING:
        return str(value)
    if isinstance(value, str):
        try:
            return np.asarray(float(value) if kind[0] == "f" else int(value), dtype=kind)
        except ValueError:
            raise ValidationError(f"attribute {attr.name!r} ({attr.where}): {value!r} is not {attr.nx_type}") from None
    return np.asarray(value, dtype=kind)


def set_attr(obj: Any, attr: Attr, value: Any) -> None:
    """Write one configured attribute on a group or dataset."""
    obj.attrs[attr.name] = _attr_value(attr, value)


def _stamp_attrs(ds: Any, sample: Sample) -> None:
    if sample.timestamp is not None:
        ds.attrs["timestamp"] = sample.timestamp
    if sample.severity is not None:
        ds.attrs["severity"] = np.int8(sample.severity)


def write_once(f: h5py.File, field: Field, value: Any, sample: Sample | None = None) -> Any:
    """Write a constant, INIT or FINAL field (numeric scalars as shape (1,), like NXSDataWriter)."""
    dtype = _h5dtype(field.nx_type)
    if dtype is _STR:
        ds = f.create_dataset(field.path, data=value, dtype=_STR)
    else:
        arr = np.asarray(value, dtype=dtype)
        ds = f.create_dataset(field.path, data=arr.reshape(1) if arr.ndim == 0 else arr)
    ds.attrs["type"] = field.nx_type
    if field.units:
        ds.attrs["units"] = field.units
    if sample is not None:
        _stamp_attrs(ds, sample)
    return ds


class StepSet:
    """The STEP datasets of one entry; :meth:`append` adds one point to each, all or none."""

    def __init__(self, f: h5py.File, config: Config) -> None:
        self.file = f
        self.fields = config.step_fields()
        self.rows: dict[str, list[Any]] = {}  # path -> [dataset, timestamp ds, severity ds]
        self.count: dict[str, int] = {}
        for fl in self.fields:
            dtype = _h5dtype(fl.nx_type)
            itemsize = 16 if dtype is _STR else dtype.itemsize
            rows = max(1, min(4096, _CHUNK_BYTES // (itemsize * int(np.prod(fl.shape, dtype=np.int64)))))
            ds = f.create_dataset(fl.path, shape=(0, *fl.shape), maxshape=(None, *fl.shape), dtype=dtype,
                                  chunks=(rows, *fl.shape), compression="gzip" if fl.compression else None,
                                  compression_opts=fl.compression, shuffle=fl.shuffle or None)
            ds.attrs["type"] = fl.nx_type
            if fl.units:
                ds.attrs["units"] = fl.units
            entry = [ds, None, None]
            has_time, has_sev = STAMPED.get(fl.source.kind, (False, False)) if fl.source else (False, False)
            for i, (wanted, suffix, dt) in enumerate(((has_time, "_timestamp", "f8"), (has_sev, "_severity", "i1"))):
                if wanted:
                    if fl.path + suffix in f:
                        raise ValidationError(f"{fl.path}{suffix} is needed for the {suffix[1:]}s of {fl.path} "
                                              "but the configuration already defines it")
                    sd = f.create_dataset(fl.path + suffix, shape=(0,), maxshape=(None,), dtype=dt, chunks=(4096,))
                    if suffix == "_timestamp":
                        sd.attrs["units"] = "s"
                        sd.attrs["long_name"] = f"server timestamp of {fl.path} (seconds since 1970-01-01 UTC)"
                    else:
                        sd.attrs["long_name"] = f"alarm severity of {fl.path} (0 none, 1 minor, 2 major, 3 invalid)"
                    entry[i + 1] = sd
            self.rows[fl.path] = entry
            self.count[fl.path] = 0

        self._fast = {id(t): _Appender(t) for entry in self.rows.values() for t in entry
                      if t is not None and t.dtype.kind in "fiu"}

    def append(self, points: list[tuple[Field, Any, Sample]]) -> None:
        """Add one point to each listed field, then flush; on failure undo what was added."""
        done: list[tuple[Any, int]] = []
        try:
            for fl, value, sample in points:
                n = self.count[fl.path]
                ds, ts, sv = self.rows[fl.path]
                for target, v in ((ds, value), (ts, sample.timestamp), (sv, sample.severity)):
                    if target is None:
                        continue
                    v = np.nan if v is None and target is ts else (-1 if v is None else v)
                    fast = self._fast.get(id(target))
                    if fast is not None:
                        fast.put(n, v)
                    else:
                        target.resize(n + 1, axis=0)
                        target[n] = v
                    done.append((target, n))
            self.file.flush()
        except BaseException:
            for target, n in done:
                target.resize(n, axis=0)
            raise
        for fl, _, _ in points:
            self.count[fl.path] += 1


class _Appender:
    """Appends one row to a numeric dataset through h5py's low-level API (the high-level
    ``resize`` + ``__setitem__`` cost about ten times more per call)."""

    def __init__(self, ds: Any) -> None:
        self.id = ds.id
        self.row = tuple(ds.shape[1:])
        self.dtype = ds.dtype
        self.mspace = h5s.create_simple((1, *self.row))
        self.start = (0,) * len(self.row)
        self.count = (1, *self.row)
        self.fspace = ds.id.get_space()
        self.maxdims = (h5s.UNLIMITED, *self.row)

    def put(self, n: int, value: Any) -> None:
        arr = np.ascontiguousarray(value, dtype=self.dtype).reshape(self.count)
        self.id.set_extent((n + 1, *self.row))
        self.fspace.set_extent_simple((n + 1, *self.row), self.maxdims)
        self.fspace.select_hyperslab((n, *self.start), self.count)
        self.id.write(self.mspace, self.fspace, arr)
