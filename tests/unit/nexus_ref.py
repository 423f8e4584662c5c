"""Shared by the NeXus tests: run one scan through nxswriter's ``TangoDataWriter``
(the reference, in-process, no Tango server) and through ctlshell's ``FileWriter``,
and flatten an HDF5 file into comparable facts."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

import h5py
import numpy as np


def run_nxswriter(path: str, xml: str, global_json: dict, records: list[dict], final_json: dict) -> str:
    """The scan through NXSDataWriter's writer class (h5py back end, one thread)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # nxswriter/nxstools import-time warnings
        from nxswriter.TangoDataWriter import TangoDataWriter
    t = TangoDataWriter()
    t.writer = "h5py"
    t.numberOfThreads = 1
    t.canfail = False
    t.fileName = path
    t.openFile()
    t.xmlsettings = xml
    t.jsonrecord = json.dumps({"data": global_json})
    t.openEntry()
    for rec in records:
        t.record(json.dumps(rec))
    t.jsonrecord = json.dumps({"data": final_json})
    t.closeEntry()
    t.closeFile()
    return path


def run_ctlshell(path: str, xml: str, global_json: dict, records: list[dict], final_json: dict,
                 readers: Any = None) -> str:
    """The same scan through ctlshell's writer core."""
    from ctlshell.nexus import FileWriter

    w = FileWriter(readers, data_dir=os.path.dirname(path))
    w.file_name = os.path.basename(path)
    w.open_file()
    w.xml = xml
    w.json_record = json.dumps({"data": global_json})
    w.open_entry()
    for rec in records:
        w.record(json.dumps(rec))
    w.json_record = json.dumps({"data": final_json})
    w.close_entry()
    w.close_file()
    return path


def _value(obj: Any) -> Any:
    v = obj[()]
    if h5py.check_string_dtype(obj.dtype) is not None:
        return np.vectorize(lambda x: x.decode() if isinstance(x, bytes) else x, otypes=[object])(v).tolist() \
            if np.ndim(v) else (v.decode() if isinstance(v, bytes) else v)
    return np.asarray(v)


def facts(path: str) -> dict[str, dict[str, Any]]:
    """path -> groups' NX_class / datasets' shape, dtype, units, type, value; links as their
    target (external links as file and path) and whether it resolves; the root's attribute names; /nexus_logs by
    structure (its texts are the XML and the Python version); ``nexdatas_*`` attributes
    by name (``nexdatas_source`` is the datasource's XML, spelled differently).
    ctlshell's own ``/nexus_logs/ctlshell`` tree (timestamps, severities) is left out."""
    out: dict[str, dict[str, Any]] = {}
    with h5py.File(path, "r") as f:
        out["/"] = {"group": {k: None for k in f.attrs}}

        def visit(name: str, link: Any) -> None:
            if name == "nexus_logs/ctlshell" or name.startswith("nexus_logs/ctlshell/"):
                return
            if isinstance(link, h5py.SoftLink):
                out[name] = {"link": link.path, "resolves": f.get(name) is not None}
                return
            if isinstance(link, h5py.ExternalLink):
                out[name] = {"link": (os.path.basename(link.filename), link.path), "resolves": f.get(name) is not None}
                return
            obj = f[name]
            attrs = {k: (None if k.startswith("nexdatas_") and k != "nexdatas_canfail"
                         else v.decode() if isinstance(v, bytes) else v) for k, v in obj.attrs.items()}
            if isinstance(obj, h5py.Group):
                out[name] = {"group": attrs}
            else:
                is_str = h5py.check_string_dtype(obj.dtype) is not None
                logs = name.startswith("nexus_logs")
                out[name] = {"shape": obj.shape, "dtype": "str" if is_str else str(obj.dtype), "attrs": attrs,
                             "value": "" if logs else _value(obj)}
        f.visititems_links(visit)
    return out


def assert_same(ref: dict[str, dict[str, Any]], mine: dict[str, dict[str, Any]], values: bool = True) -> None:
    """Same objects, and for each the same NX_class, shape, dtype, units/type and values.

    ``values=False``: the structure only (objects, shapes, dtypes, attribute names, their
    dtypes and shapes, link targets and whether they resolve), for files of runs whose
    inputs were drawn at random (nxswriter's own suite draws new data in each run)."""
    only_ref, only_mine = sorted(set(ref) - set(mine)), sorted(set(mine) - set(ref))
    assert not (only_ref or only_mine), f"objects of one file only: {only_ref[:3]} / {only_mine[:3]}"
    for name in ref:
        a, b = ref[name], mine[name]
        assert a.keys() == b.keys(), name
        if "link" in a:
            assert a == b, name
            continue
        if "group" in a:
            _same_attrs(a["group"], b["group"], name, values)
            continue
        assert (a["shape"], a["dtype"]) == (b["shape"], b["dtype"]), \
            f"{name}: shape, dtype {a['shape']}, {a['dtype']} / {b['shape']}, {b['dtype']}"
        _same_attrs(a["attrs"], b["attrs"], name, values)
        if not values:
            continue
        if a["dtype"] == "str":
            assert a["value"] == b["value"], name
        else:
            np.testing.assert_array_equal(a["value"], b["value"], err_msg=name)


def _same_attrs(a: dict[str, Any], b: dict[str, Any], name: str, values: bool = True) -> None:
    assert sorted(a) == sorted(b), f"{name}: attributes {sorted(set(a) ^ set(b))} of one file only"
    for k in a:
        if isinstance(a[k], np.ndarray) or isinstance(b[k], np.ndarray):
            x, y = np.asarray(a[k]), np.asarray(b[k])
            assert (x.dtype, x.shape) == (y.dtype, y.shape), f"{name}@{k}: {x.dtype} {x.shape} / {y.dtype} {y.shape}"
            if values:
                np.testing.assert_array_equal(x, y, err_msg=f"{name}@{k}")
        elif values:
            assert a[k] == b[k], f"{name}@{k}"
        else:
            assert type(a[k]) is type(b[k]), f"{name}@{k}: {type(a[k]).__name__} / {type(b[k]).__name__}"
