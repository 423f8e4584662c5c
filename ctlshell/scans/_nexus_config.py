"""The NeXus configuration of a run, made from its documents: NXSDataWriter's XML.

Pure: a start document and the primary descriptor in, XML text out. Motors go under
``NXinstrument/NXpositioner``, detectors under ``NXdetector``, an ``NXdata`` group
links them with ``signal`` (the first detector) and ``axes`` (the motors); the run's
metadata (title, plan, scan id, uid, start time) are INIT fields of the entry and its
exit status a FINAL one. Every value is a CLIENT source named by its data key (the
JSON record of each event), so the file holds what the run's documents hold.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["METADATA", "config_xml", "entry_values", "event_values", "in_plan_order", "safe_name"]

#: start-document keys written as INIT fields of the entry (name -> NX type)
METADATA = {"title": "NX_CHAR", "plan_name": "NX_CHAR", "scan_id": "NX_INT64", "uid": "NX_CHAR",
            "start_time": "NX_FLOAT64"}

_NX = {"number": "NX_FLOAT64", "integer": "NX_INT64", "boolean": "NX_BOOLEAN", "string": "NX_CHAR"}


def safe_name(key: str) -> str:
    """A NeXus group name for a data key (``DEMO:DET:COUNTS`` -> ``DEMO_DET_COUNTS``)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", key).strip("_") or "value"
    return name if not name[0].isdigit() else f"_{name}"


def _nx_type(key: dict[str, Any]) -> str:
    dtype = key.get("dtype", "number")
    if dtype == "array":
        numpy = str(key.get("dtype_numpy", "<f8"))
        return "NX_INT64" if numpy[1:2] in ("i", "u") else "NX_FLOAT64"
    return _NX.get(dtype, "NX_CHAR")


def _field(name: str, record: str, key: dict[str, Any], mode: str = "STEP") -> str:
    units = key.get("units")
    attrs = f' units={quoteattr(str(units))}' if units else ""
    shape = [int(n) for n in key.get("shape") or [] if n]
    dims = ""
    if shape:
        dims = f'<dimensions rank="{len(shape)}">' + "".join(
            f'<dim index="{i + 1}" value="{n}"/>' for i, n in enumerate(shape)) + "</dimensions>"
    return (f'<field name="{name}" type="{_nx_type(key)}"{attrs}>{dims}<strategy mode="{mode}"/>'
            f'<datasource type="CLIENT"><record name={quoteattr(record)}/></datasource></field>')


def in_plan_order(keys: list[str], detectors: list[str]) -> list[str]:
    """``keys`` in the order of the plan's ``detectors`` (the first is the signal).

    bluesky 1.16 reads the detectors of a point concurrently, so the descriptor's keys
    come in the order their first reads ended: a scan of ``[double_scalar,
    long_scalar]`` got ``long_scalar`` as its signal. A key belongs to the detector it
    is named after (exactly, else as ``name_field`` / ``name-field``); keys of no
    detector come last, each group in the descriptor's order.
    """
    rank = {name: i for i, name in enumerate(detectors)}

    def of(key: str) -> int:
        if key in rank:
            return rank[key]
        owners = [n for n in detectors if key.startswith((n + "_", n + "-"))]
        return rank[max(owners, key=len)] if owners else len(detectors)  # the closest owner

    return sorted(keys, key=of)  # stable


def config_xml(start: dict[str, Any], descriptor: dict[str, Any]) -> str:
    """NXSDataWriter XML for a run (see the module doc)."""
    keys: dict[str, dict[str, Any]] = descriptor.get("data_keys", {})
    motors = [m for m in start.get("motors") or [] if m in keys]
    detectors = in_plan_order([d for d in keys if d not in motors], start.get("detectors") or [])
    parts = ['<definition><group type="NXentry" name="entry">']
    for name, nx_type in METADATA.items():
        parts.append(f'<field name="{name}" type="{nx_type}"><strategy mode="INIT"/>'
                     f'<datasource type="CLIENT"><record name="{name}"/></datasource></field>')
    parts.append('<field name="exit_status" type="NX_CHAR"><strategy mode="FINAL"/>'
                 '<datasource type="CLIENT"><record name="exit_status"/></datasource></field>')
    parts.append('<group type="NXinstrument" name="instrument">')
    for kind, names in (("NXpositioner", motors), ("NXdetector", detectors)):
        for key in names:
            field = "value" if kind == "NXpositioner" else "data"
            source = escape(str(keys[key].get("source", "")))
            parts.append(f'<group type="{kind}" name="{safe_name(key)}">'
                         f'<field name="name" type="NX_CHAR">{escape(key)}</field>'
                         f'<field name="source" type="NX_CHAR">{source}</field>'
                         f'{_field(field, key, keys[key])}</group>')
    parts.append("</group>")
    if detectors:
        axes = ":".join(safe_name(m) for m in motors)
        parts.append('<group type="NXdata" name="data">'
                     f'<attribute name="signal" type="NX_CHAR">{safe_name(detectors[0])}</attribute>'
                     + (f'<attribute name="axes" type="NX_CHAR">{axes}</attribute>' if axes else ""))
        for key in motors:
            parts.append(f'<link name="{safe_name(key)}" target="/entry/instrument/{safe_name(key)}/value"/>')
        for key in detectors:
            parts.append(f'<link name="{safe_name(key)}" target="/entry/instrument/{safe_name(key)}/data"/>')
        parts.append("</group>")
    parts.append("</group></definition>")
    return "".join(parts)


def entry_values(start: dict[str, Any]) -> dict[str, Any]:
    """The INIT values of a run's entry from its start document."""
    values = {name: start.get(name) for name in METADATA}
    values["title"] = str(start.get("title") or f"{start.get('plan_name', 'run')} {start.get('scan_id', '')}".strip())
    values["start_time"] = float(start.get("time", 0.0))
    values["scan_id"] = int(start.get("scan_id") or 0)
    values["uid"] = str(start.get("uid", ""))
    values["plan_name"] = str(start.get("plan_name", ""))
    return values


def event_values(event: dict[str, Any]) -> dict[str, Any]:
    """The CLIENT values of one event (by data key)."""
    return dict(event.get("data", {}))
