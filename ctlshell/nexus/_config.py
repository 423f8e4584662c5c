"""NXSDataWriter's XML configuration as frozen values: groups, fields, attributes,
links and their data sources, flattened with absolute paths.

Pure: takes text, returns a :class:`Config`; knows no h5py, no Tango, no network.
Every error names the line and column of the element at fault. ``PYEVAL`` sources
(which ``exec`` XML text in NXSDataWriter) are accepted only when their result is
arithmetic on their inputs (checked by :mod:`._expr`); anything else is refused:
nothing in a configuration runs code in the writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field as dc_field, replace
from functools import cached_property
from typing import Any

from ..core import ValidationError
from ._expr import Expression, compile_result
from ._types import NX_TYPES
from ._xml import Element, parse_xml

__all__ = ["Attr", "Config", "Field", "Group", "Link", "Source", "parse_config"]

MODES = ("INIT", "STEP", "FINAL", "POSTRUN")
KINDS = ("CLIENT", "TANGO", "DB", "CHANNEL", "PYEVAL")
#: datasource types registered by a record's "datasources" key (name -> built-in kind);
#: None while only the syntax is checked (XMLSettings written before JSONRecord)
_ALIASES: ContextVar[Mapping[str, str] | None] = ContextVar("_ALIASES", default={})  # noqa: B039 (read, never changed)


@dataclass(frozen=True)
class Source:
    """Where a value comes from: ``kind`` CLIENT/TANGO/DB/CHANNEL/PYEVAL, ``record`` the
    key, attribute or address, ``params`` the rest (device, database, query...); a PYEVAL
    source has its named ``inputs`` and a checked ``expression``."""

    kind: str
    record: str
    params: dict[str, str] = dc_field(default_factory=dict, hash=False, compare=False)
    where: str = ""
    inputs: tuple[tuple[str, Source], ...] = ()
    expression: Expression | None = dc_field(default=None, hash=False, compare=False)


@dataclass(frozen=True)
class Attr:
    """An attribute of a group or field: constant ``text`` or a ``source`` (INIT/STEP/FINAL;
    a STEP attribute is rewritten at every record)."""

    name: str
    nx_type: str
    text: str
    source: Source | None
    strategy: str
    where: str
    shape: tuple[int, ...] = ()
    canfail: bool = False


@dataclass(frozen=True)
class Field:
    """A field: ``strategy`` None (constant ``text``), INIT, STEP, FINAL or POSTRUN (an empty
    dataset whose ``postrun`` attribute keeps the strategy's text, for later collection).
    A 0 in ``shape`` is a dimension given by the data (``<dimensions rank="N"/>``)."""

    path: str
    nx_type: str
    units: str | None
    shape: tuple[int, ...]
    strategy: str | None
    source: Source | None
    text: str
    trigger: str | None
    compression: int | None
    shuffle: bool
    attrs: tuple[Attr, ...]
    where: str
    postrun: str = ""
    canfail: bool = False  # <strategy canfail="true"/>: a failed source gives a marked fill value
    #: NXSDataWriter's own attributes of the field: nexdatas_strategy, nexdatas_source
    tags: tuple[tuple[str, str], ...] = ()
    grows: int = 1  # <strategy grows="N"/>: the axis (1-based) along which STEP points are added

    @property
    def shape_from_data(self) -> bool:
        return 0 in self.shape


@dataclass(frozen=True)
class Group:
    path: str
    nx_class: str
    attrs: tuple[Attr, ...]


@dataclass(frozen=True)
class Link:
    """A link; ``file`` names another file (``other.h5://entry/x``), else it is in this file."""

    path: str
    target: str
    where: str
    file: str | None = None


@dataclass(frozen=True)
class Config:
    """A parsed configuration, in document order."""

    groups: tuple[Group, ...]
    fields: tuple[Field, ...]
    links: tuple[Link, ...]
    xml: str

    def step_fields(self) -> tuple[Field, ...]:
        return self._step_fields

    @cached_property
    def _step_fields(self) -> tuple[Field, ...]:  # asked once per record; the value is frozen
        return tuple(f for f in self.fields if f.strategy == "STEP")


def _pos(el: Element) -> str:
    return f"line {el.line}, column {el.column + 1}"


def _source(el: Element) -> Source:
    kind = el.attrib.get("type", "").upper()
    where = f"datasource {el.attrib.get('name', '')!r} ({_pos(el)})"
    aliases = _ALIASES.get()
    if kind not in KINDS:
        if aliases is None:  # checked again at OpenEntry, with the registered datasources
            rec = el.find("record")
            return Source(kind, rec.attrib.get("name", "") if rec is not None else "", {}, where)
        if kind not in aliases:
            raise el.error(f"unknown datasource type {kind!r}; ctlshell knows {', '.join(KINDS)} and those a "
                           "JSON record registers under \"datasources\"")
        kind = aliases[kind]
    rec = el.find("record")
    params: dict[str, str] = {}
    if kind == "PYEVAL":
        return _computed(el, where)
    if kind == "DB":
        query, db = el.find("query"), el.find("database")
        if query is None or not query.text:
            raise el.error("a DB datasource needs <query format=...>SELECT ...</query>")
        params.update(db.attrib if db is not None else {})
        params["query"], params["format"] = query.text, query.attrib.get("format", "SCALAR").upper()
        if params["format"] not in ("SCALAR", "SPECTRUM", "IMAGE"):
            raise query.error(f"query format must be SCALAR, SPECTRUM or IMAGE, not {params['format']!r}")
        return Source(kind, "", params, where)
    if rec is None or not rec.attrib.get("name"):
        raise el.error(f"a {kind} datasource needs <record name=\"...\"/>")
    if kind == "TANGO":
        dev = el.find("device")
        if dev is None or not dev.attrib.get("name"):
            raise el.error("a TANGO datasource needs <device name=\"domain/family/member\"/>")
        params.update(dev.attrib)
        params["ds_name"] = el.attrib.get("name", "")  # a __CLIENT__ group's value may come under this name
        if params.get("member", "attribute") != "attribute":
            raise dev.error(f"member={params['member']!r}: ctlshell reads Tango attributes only")
    return Source(kind, rec.attrib["name"], params, where)


def _computed(el: Element, where: str) -> Source:
    """A PYEVAL source whose result is checked arithmetic (never ``exec``)."""
    inputs = []
    for child in el.children:
        if child.tag == "datasource":
            name = child.attrib.get("name", "")
            if not name.isidentifier():
                raise child.error(f"an input of a PYEVAL datasource needs a name usable as ds.NAME, got {name!r}")
            inputs.append((name, _source(child)))
    result = el.find("result")
    if result is None or not result.text:
        raise el.error("a PYEVAL datasource needs <result name=\"r\">ds.r = ...</result>")
    name = result.attrib.get("name", "result").removeprefix("ds.")
    try:
        expression = compile_result(result.text, name, {n for n, _ in inputs})
    except ValidationError as exc:
        raise result.error(f"PYEVAL code is not run by ctlshell; as a computed value: {exc}") from None
    return Source("PYEVAL", name, {}, where, tuple(inputs), expression)


def _strategy(el: Element) -> tuple[str | None, Element | None]:
    st = el.find("strategy")
    if st is None:
        return None, None
    mode = st.attrib.get("mode", "").upper()
    if mode not in MODES:
        raise st.error(f"strategy mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode, st


def _nx_type(el: Element, default: str = "NX_CHAR") -> str:
    t = el.attrib.get("type", default)
    if t not in NX_TYPES:
        raise el.error(f"unknown type {t!r}")
    return t


def _attr(el: Element) -> Attr:
    name = el.attrib.get("name")
    if not name:
        raise el.error("an attribute needs a name")
    mode, st = _strategy(el)
    ds = el.find("datasource")
    source = _source(ds) if ds is not None else None
    if mode == "POSTRUN":
        raise el.error("attributes can be INIT, STEP or FINAL, not POSTRUN")
    if source is not None and mode is None:
        mode = "INIT"
    return Attr(name, _nx_type(el), el.text, source, mode or "INIT", _pos(el), _shape(el), _canfail(st))


def _canfail(st: Element | None) -> bool:
    return st is not None and st.attrib.get("canfail", "false").strip().lower() == "true"


def _shape(el: Element) -> tuple[int, ...]:
    dims = el.find("dimensions")
    if dims is None:
        return ()
    try:
        rank = int(dims.attrib.get("rank", "0"))
        values = {int(d.attrib["index"]): int(d.attrib.get("value", "0")) for d in dims.children if d.tag == "dim"}
    except (KeyError, ValueError):
        raise dims.error("rank, dim index and dim value must be integers") from None
    if rank > 0 and not values:  # NXSDataWriter: the shape comes from the data
        return (0,) * rank
    if sorted(values) != list(range(1, rank + 1)) or any(v < 0 for v in values.values()):
        raise dims.error(f"rank {rank} needs dims 1..{rank} with values >= 0 (0: from the data), got {values}")
    return tuple(values[i] for i in range(1, rank + 1))


def _field(el: Element, path: str) -> Field:
    mode, st = _strategy(el)
    ds = el.find("datasource")
    source = _source(ds) if ds is not None else None
    if source is not None and mode is None:
        raise el.error("a field with a datasource needs <strategy mode=\"INIT|STEP|FINAL\"/>")
    postrun = st.text.strip() if mode == "POSTRUN" and st is not None else ""
    if source is None and mode not in (None, "POSTRUN") and not el.text:
        raise el.error(f"a {mode} field needs a datasource or text")
    if mode == "POSTRUN":
        source = None  # filled later by a collector (nxscollect), from the strategy's text
    elif source is None:
        mode = None  # constant text, written at OpenEntry (like NXSDataWriter)
    compression = None
    if st is not None and st.attrib.get("compression", "false").lower() == "true":
        compression = int(st.attrib.get("rate", "4"))
    attrs = tuple(_attr(a) for a in el.children if a.tag == "attribute")
    return Field(path, _nx_type(el), el.attrib.get("units"), _shape(el), mode, source, el.text,
                 st.attrib.get("trigger") if st is not None else None, compression,
                 st is not None and st.attrib.get("shuffle", "false").lower() == "true", attrs, _pos(el), postrun,
                 _canfail(st), _tags(st, ds), _grows(st, _shape(el)))


def _grows(st: Element | None, shape: tuple[int, ...]) -> int:
    try:
        n = int(st.attrib.get("grows", "1")) if st is not None else 1
    except ValueError:
        raise st.error(f"grows must be an integer, not {st.attrib['grows']!r}") from None  # type: ignore[union-attr]  # st is set: the default parses
    return min(max(1, n), len(shape) + 1)  # as NXSDataWriter clamps it


def _tags(st: Element | None, ds: Element | None) -> tuple[tuple[str, str], ...]:
    tags = []
    if st is not None and (st.attrib.get("trigger") or st.attrib.get("mode")):
        tags.append(("nexdatas_strategy", st.attrib.get("trigger") or st.attrib["mode"]))
    if ds is not None:
        tags.append(("nexdatas_source", ds.to_xml()))
    return tuple(tags)


def _walk(el: Element, parent: str, out: dict[str, list[Any]], names: set[str]) -> None:
    for child in el.children:
        if child.tag in ("doc", "strategy", "attribute", "dimensions", "datasource"):
            continue
        if child.tag not in ("group", "field", "link"):
            raise child.error("unknown element (expected group, field, link, attribute, doc)")
        nx_class = child.attrib.get("type", "")
        name = child.attrib.get("name") or (nx_class[2:] if child.tag == "group" and nx_class.startswith("NX")
                                            else "")
        if not name or "/" in name or name in (".", ".."):
            raise child.error(f"needs a name (without '/'), got {name!r}")
        path = f"{parent}/{name}"
        if path in names:
            raise child.error(f"{path} is defined twice")
        names.add(path)
        if child.tag == "group":
            if not nx_class:
                raise child.error("a group needs type=\"NX...\"")
            attrs = tuple(_attr(a) for a in child.children if a.tag == "attribute")
            out["groups"].append(Group(path, nx_class, attrs))
            _walk(child, path, out, names)
        elif child.tag == "field":
            out["fields"].append(_field(child, path))
        else:
            target = child.attrib.get("target", "")
            file, sep, inner = target.rpartition("://")
            if sep and not file:
                raise child.error(f"a link target FILE://PATH needs a file name, got {target!r}")
            target = ("/" + inner.lstrip("/")) if sep else target
            if not target.startswith("/"):
                raise child.error("a link needs an absolute target (or FILE://PATH), "
                                  f"got {child.attrib.get('target')!r}")
            out["links"].append(Link(path, target, _pos(child), file or None))


def _resolve(target: str, out: dict[str, list[Any]]) -> str:
    """A link target written by class (``/NXentry/NXinstrument/det/x``), as NXSDataWriter
    allows, turned into the path of names; a segment that is a name stays as it is."""
    classes = {g.path: g.nx_class for g in out["groups"]}
    known = set(classes) | {f.path for f in out["fields"]}
    path = ""
    for seg in target.strip("/").split("/"):
        if f"{path}/{seg}" not in known and seg.startswith("NX"):
            match = [p for p, c in classes.items() if c == seg and p.rsplit("/", 1)[0] == path]
            if len(match) == 1:
                path = match[0]
                continue
        path = f"{path}/{seg}"
    return path


def parse_config(xml: str, datasources: Mapping[str, str] | None = None) -> Config:
    """Parse an NXSDataWriter XML configuration.

    Parameters
    ----------
    xml : str
        The configuration.
    datasources : mapping of str to str, optional
        Datasource types registered by the JSON records (type -> built-in kind);
        ``None`` accepts any type for now (the syntax check of ``XMLSettings``).

    Raises
    ------
    XMLConfigError
        Malformed XML or an element ctlshell cannot write, with line and column.
    """
    token = _ALIASES.set(None if datasources is None else {k.upper(): v for k, v in datasources.items()})
    try:
        return _parse(xml)
    finally:
        _ALIASES.reset(token)


def _parse(xml: str) -> Config:
    root = parse_xml(xml)
    if root.tag != "definition":
        raise root.error("the root element must be <definition>")
    out: dict[str, list[Any]] = {"groups": [], "fields": [], "links": []}
    _walk(root, "", out, set())
    out["links"] = [replace(ln, target=ln.target if ln.file else _resolve(ln.target, out)) for ln in out["links"]]
    return Config(tuple(out["groups"]), tuple(out["fields"]), tuple(out["links"]), xml)
