"""Serving from this process: ``host``/``unhost``/``hosted`` for PVs, devices,
daemons and caproto groups; who may write (``restrict_writes``) and who did
(``journal``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TypeVar, overload

from ..core import (
    WriteRule,
    ValidationError,
    parse_address,
)
from ..host import Daemon, Device, HostedPV, JournalEntry, PVSpec, is_pvgroup
from ._sessions import Session, session

log = logging.getLogger(__name__)


# -- hosting -----------------------------------------------------------------------
_MISSING: Any = object()
_Obj = TypeVar("_Obj")


@overload
def host(name: str, value: Any, *, units: str | None = None, precision: int | None = None,
         limits: Sequence[float] | None = None, alarm_limits: Sequence[float] | None = None,
         warning_limits: Sequence[float] | None = None, enum: Sequence[str] | None = None,
         writable: bool = False, doc: str | None = None, pva: bool = True) -> HostedPV: ...


@overload
def host(name: _Obj) -> _Obj: ...  # a Device, a Daemon or a PVGroup, given back


def host(name: Any, value: Any = _MISSING, *, units: str | None = None, precision: int | None = None,
         limits: Sequence[float] | None = None, alarm_limits: Sequence[float] | None = None,
         warning_limits: Sequence[float] | None = None, enum: Sequence[str] | None = None,
         writable: bool = False, doc: str | None = None, pva: bool = True) -> Any:
    """Serve a PV, a device, a daemon or a caproto group from this process on Channel
    Access and PV Access (bound to loopback by default).

    ``host(name, value, ...)`` serves one PV and returns its :class:`HostedPV`.
    ``host(obj)`` with a :class:`Device`, a :class:`Daemon` or a caproto ``PVGroup``
    instance serves all of its PVs and returns ``obj``; ``unhost(obj)`` stops it.

    Parameters
    ----------
    name : str or Device or Daemon or PVGroup
        The PV name, e.g. ``"BL:SAMPLE:TEMP"``, or an object to serve.
    value : Any
        Initial value; its type fixes the PV's type (float -> double, int -> long,
        str -> string, a 1-D sequence -> array of its length; with ``enum`` an index
        or a choice).
    units, precision, doc
        Display metadata.
    limits : (low, high), optional
        Control limits: writes outside them are refused.
    alarm_limits, warning_limits : (low, high), optional
        Values beyond them raise MAJOR / MINOR alarms.
    enum : sequence of str, optional
        Choices of an enum PV.
    writable : bool
        Whether clients may write (False: read-only for clients, settable from Python).
    pva : bool
        Also serve it on PV Access (default; ``configure(serve_pva=False)`` turns PVA
        off for the whole session).

    Returns
    -------
    HostedPV
        Set ``.value`` to publish; ``.on_write(cb)`` to hear client writes.

    Raises
    ------
    AddressError, ValidationError
    """
    s = session()
    if not isinstance(name, str):
        if value is not _MISSING:
            raise ValidationError("host(obj) takes a device, daemon or group alone, without a value")
        return _host_object(s, name)
    if value is _MISSING:
        raise ValidationError(f"host({name!r}) needs an initial value: host(name, value, ...)")
    addr = parse_address(name, "ca")
    if addr.scheme not in ("ca", "local"):
        raise ValidationError(f"host() serves CA names; {addr.scheme}:// hosting is not available yet")
    spec = PVSpec(value, units=units, precision=precision, limits=limits, alarm_limits=alarm_limits,
                  warning_limits=warning_limits, enum=enum, writable=writable, doc=doc)
    pv = spec.build(addr.name)  # checks the initial value against the limits
    old = s.handles.get(pv.name)
    if old is not None and old.hosted:
        # hosted before by this session: a notebook cell run again
        if old.metadata == pv.metadata:
            old.value = pv.read().value  # the same declaration: back to its initial value
            return old
        log.info("%s hosted again with another declaration: replaced", pv.name)
        old.remove()
    s.ca_server()
    pva_server = s.pva_server()
    if pva_server is not None and not pva:
        pva_server.exclude(pv.name)
    try:
        s.store.add(pv)
    except Exception:
        if pva_server is not None and not pva:
            pva_server.include(pv.name)
        raise
    handle = HostedPV(pv, s.store)
    s.handles[pv.name] = handle
    return handle


def _same_kind(hosted: Any, obj: Any) -> bool:
    """Whether ``hosted`` (of this session) is ``obj`` declared again: same class, same prefix."""
    hosted = getattr(hosted, "group", hosted)  # a HostedGroup holds its PVGroup
    return type(hosted) is type(obj) and getattr(hosted, "prefix", None) == getattr(obj, "prefix", None)


def _host_object(s: Session, obj: Any) -> Any:
    if any(o is obj or getattr(o, "group", None) is obj for o in s.objects):
        raise ValidationError(f"{obj!r} is already hosted")
    for old in [o for o in s.objects if _same_kind(o, obj)]:
        # the same device, daemon or group made again (a cell run again): it replaces the old one
        log.info("%r hosted again: the one hosted before is stopped", obj)
        unhost(getattr(old, "group", old))
    server = s.ca_server()
    s.pva_server()  # devices and daemons live in the store: served on PVA as well
    if isinstance(obj, Device):
        obj.start(s.store)
    elif isinstance(obj, Daemon):
        obj.start(s.store, s.state)
    elif is_pvgroup(obj):
        from ..host import HostedGroup

        hosted_group = HostedGroup(obj, server, s.pva_server(), lambda: s.store.write_rule)
        s.runtime.call(hosted_group.start(set(s.store.names())), s.config.timeout, "hosting a PVGroup")
        obj = hosted_group.group
        s.objects.append(hosted_group)
        return obj
    else:
        raise ValidationError(
            f"host() serves a name and value, a Device, a Daemon or a caproto PVGroup, not {type(obj).__name__}")
    s.objects.append(obj)
    return obj


def unhost(name: Any) -> None:
    """Stop serving a hosted PV (by name), device, daemon or group."""
    s = session()
    if not isinstance(name, str):
        for obj in list(s.objects):
            if obj is name or getattr(obj, "group", None) is name:
                s.objects.remove(obj)
                if isinstance(obj, (Device, Daemon)):
                    obj.stop()
                else:
                    s.runtime.call(s.stop_object(obj), s.config.timeout + 5, f"unhosting {name!r}")
                return
        raise ValidationError(f"{name!r} is not hosted here")
    handle = s.handles.pop(parse_address(name, "ca").name, None)
    if handle is None:
        s.store.remove(parse_address(name, "ca").name)
    else:
        handle.remove()


def hosted() -> list[str]:
    """Names of the PVs this process serves."""
    s = session()
    names = set(s.store.names())
    for obj in s.objects:
        names.update(getattr(obj, "names", ()))
    return sorted(names)


# -- who may write, and who did -----------------------------------------------------------
def restrict_writes(hosts: Sequence[str] | str | None = None,
                    users: Sequence[str] | str | None = None) -> WriteRule:
    """Allow client writes to hosted PVs only from these hosts and users.

    Patterns as in ``fnmatch`` (``"beamline-ws*"``); ``None`` means any. A refused
    client gets an error and nothing changes; read-only PVs stay read-only.
    ``restrict_writes()`` lets everyone write again.

    Returns
    -------
    WriteRule
        The rule now in force.
    """
    s = session()
    s.store.write_rule = WriteRule(hosts, users)
    return s.store.write_rule


def journal(pv: str | None = None, limit: int | None = 20) -> list[JournalEntry]:
    """The last ``limit`` accepted client writes (of ``pv`` only, when given), oldest first.

    Each entry has time, protocol, client host and user, PV, old and new value. Kept in
    the state file (``configure(state_file=...)`` before hosting; in memory otherwise).
    """
    return session().state.journal(pv, limit)
