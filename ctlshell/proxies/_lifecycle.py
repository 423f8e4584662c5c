"""Karabo's ``instantiate``, ``shutdown`` and ``getClassSchema`` for devices this process hosts.

``instantiate(serverId, classId, deviceId, configuration, **kwargs)`` hosts a new
instance of a class this process already hosts (by name, as ``getClasses`` lists it)
or of ``"package.module:Class"`` (what ``ctlshell serve`` takes), with PV prefix
``deviceId``, then applies the configuration through a proxy, validated first: one
bad key and nothing stays hosted. ``shutdown(device)`` unhosts it. The only server
is this process (``SERVER_ID``); other ``ctlshell serve`` processes are not reached.
"""

from __future__ import annotations

from typing import Any

from ..api import host, session, unhost
from ..core import NotFoundError, ValidationError, parse_address
from ..host import Daemon, Device, make_hostable
from ._hash import Hash
from ._proxy import DeviceProxy
from ._topology import SERVER_ID, _hosted

__all__ = ["get_class_schema", "instantiate", "shutdown"]


def _class_spec(class_id: str) -> Any:
    for _, obj in _hosted():
        if type(obj).__name__ == class_id:
            return type(obj)
    if ":" in class_id:
        return class_id
    names = sorted({type(obj).__name__ for _, obj in _hosted()})
    raise NotFoundError(f"no class {class_id!r} here; hosted classes are {names}, or give 'package.module:Class'")


def instantiate(serverId: str, classId: str, deviceId: str = "",  # noqa: N803 (Karabo's names)
                configuration: Any = None, **kwargs: Any) -> str:
    """Host a new device of ``classId`` with prefix ``deviceId``, configured.

    Returns
    -------
    str
        The new device's id (``local://PREFIX``), as Karabo returns its id.

    Raises
    ------
    ValidationError
        Another server, an empty or taken id, a configuration key or value the device
        refuses (then nothing is hosted).
    NotFoundError
        An unknown class.
    """
    from ._verbs import connect_device, set_wait

    if serverId != SERVER_ID:
        raise ValidationError(f"only this process ({SERVER_ID}) can instantiate; not {serverId!r}")
    prefix = parse_address(deviceId, "local").name if isinstance(deviceId, str) and deviceId.strip() else ""
    if not prefix:
        raise ValidationError("instantiate needs a deviceId: the new device's PV prefix, e.g. 'BL:M2:'")
    if f"local://{prefix}" in (address for address, _ in _hosted()):
        raise ValidationError(f"a device with the prefix {prefix!r} is hosted here already")
    config = dict(configuration.items() if isinstance(configuration, Hash) else (configuration or {}).items())
    config.update(kwargs)
    spec = _class_spec(classId)
    obj = make_hostable(spec, prefix) if isinstance(spec, str) else _build(spec, prefix)
    hosted = host(obj)
    try:
        proxy = connect_device(f"local://{prefix}")
        if config:
            set_wait(proxy, **config)  # validated first: all or nothing
    except BaseException:
        _unhost(hosted)
        raise
    return f"local://{prefix}"


def get_class_schema(serverId: str, classId: str) -> Any:  # noqa: N803 (Karabo's names)
    """The :class:`Schema` of a class this process hosts, as its first hosted instance has
    it (a Daemon's items may depend on its catalog argument).

    Raises
    ------
    ValidationError
        Another server.
    NotFoundError
        No hosted instance of ``classId``.
    """
    from ._verbs import connect_device

    if serverId != SERVER_ID:
        raise ValidationError(f"only this process ({SERVER_ID}) is a server here; not {serverId!r}")
    for address, obj in _hosted():
        if type(obj).__name__ == classId:
            return connect_device(address)._schema
    names = sorted({type(obj).__name__ for _, obj in _hosted()})
    raise NotFoundError(f"no hosted instance of {classId!r}; hosted classes are {names}")


def _build(cls: type[Any], prefix: str) -> Any:
    return cls(prefix) if issubclass(cls, (Daemon, Device)) else cls(prefix=prefix)


def _unhost(obj: Any) -> None:
    from ._verbs import _registry, _registry_lock, disconnect_device

    prefix = getattr(getattr(obj, "group", obj), "prefix", "")
    with _registry_lock:
        proxy = _registry.get(f"local://{prefix}")
    if proxy is not None:
        disconnect_device(proxy)
    unhost(obj)


def shutdown(device: Any) -> bool:
    """Unhost a device this process hosts (by id or proxy); its proxies are disconnected.

    Raises
    ------
    ValidationError
        A device this process does not host (an EPICS prefix, a Tango device).
    """
    address = device._backend.address if isinstance(device, DeviceProxy) else str(device)
    for candidate in session().objects:
        inner = getattr(candidate, "group", candidate)
        if f"local://{getattr(inner, 'prefix', '')}" == address:
            _unhost(candidate)
            return True
    raise ValidationError(f"{address} is not hosted by this process; only hosted devices can be shut down")
