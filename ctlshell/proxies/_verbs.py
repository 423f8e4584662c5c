"""The verbs that make proxies and write: ``connect_device``, ``set_wait``, ``execute``...

Each blocking verb is a plain function that checks its arguments in the caller's
thread (so bad input raises at once and nothing is sent) and hands one coroutine
to :func:`run`, which adds ``timeout=`` and ``wait=False``. Which backend serves a
device is decided in one table (:data:`_KINDS`), by address scheme.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..api import session
from ..core import NotFoundError, Severity, ValidationError, parse_address
from ._backend import ChannelBackend, HostedBackend, ProxyBackend
from ._hash import Hash
from ._proxy import DeviceProxy
from ._sync import Future, run, time_limit

__all__ = [
    "call", "call_no_wait", "compare_device_configuration", "connect_device", "disconnect_device", "execute",
    "execute_no_wait", "get_configuration", "get_descriptors", "get_device", "get_properties", "get_schema",
    "set_no_wait", "set_wait", "update_device",
]

log = logging.getLogger(__name__)
_registry: dict[str, DeviceProxy] = {}
_registry_lock = threading.Lock()


# -- which backend serves an address --------------------------------------------------------
def _hosted_object(obj: Any) -> ProxyBackend:
    pvdb = getattr(obj, "pvdb", None)
    if isinstance(pvdb, dict):  # a caproto PVGroup: its own server channels, reached over CA
        prefix = str(getattr(obj, "prefix", "") or "")
        return ChannelBackend("ca", prefix, [name[len(prefix):] for name in pvdb if name.startswith(prefix)])
    return HostedBackend(obj)


def _hosted(name: str, pvs: Sequence[str] | None) -> ProxyBackend:
    for obj in session().objects:
        obj = getattr(obj, "group", obj)  # a hosted caproto group is kept in a wrapper
        if getattr(obj, "prefix", None) == name:
            return _hosted_object(obj)
    if pvs is not None:
        return ChannelBackend("local", name, pvs)
    raise NotFoundError(f"nothing hosted here has the prefix {name!r}; pass pvs=[...] for plain local PVs")


def _tango(name: str, pvs: Sequence[str] | None) -> ProxyBackend:
    from ._tango import TangoBackend  # loaded on use

    return TangoBackend(name, pvs)


_KINDS: dict[str, Callable[[str, Sequence[str] | None], ProxyBackend]] = {
    "local": _hosted,
    "ca": functools.partial(ChannelBackend, "ca"),
    "pva": functools.partial(ChannelBackend, "pva"),
    "tango": _tango,
}


def _backend_for(device: Any, pvs: Sequence[str] | None) -> ProxyBackend:
    if not isinstance(device, str):
        if pvs is not None:
            raise ValidationError("pvs= is for an address; a hosted object brings its own PVs")
        return _hosted_object(device)
    if not device.strip():
        raise ValidationError("connect_device needs a device address, e.g. 'ca://BL:M1:' or 'local://OVEN:'")
    addr = parse_address(device, "local")
    factory = _KINDS.get(addr.scheme)
    if factory is None:
        raise ValidationError(f"no device proxies for {addr.scheme}:// addresses")
    return factory(addr.name, None if pvs is None else list(pvs))


# -- proxies -----------------------------------------------------------------------------------
def connect_device(device: Any, *, pvs: Sequence[str] | None = None, autodisconnect: Any = None,
                   timeout: Any = None) -> DeviceProxy:
    """The proxy of a device: one per device and client (a second call returns the same one).

    Parameters
    ----------
    device : str or hosted object
        ``"local://PREFIX"`` or a :class:`Daemon` / :class:`Device` / caproto
        ``PVGroup`` hosted here (a group is reached over CA, with all its PVs);
        ``"ca://PREFIX"`` / ``"pva://PREFIX"`` with ``pvs``; ``"tango://dom/fam/mem"``.
        A :class:`DeviceProxy` is returned as it is.
    pvs : sequence of str, optional
        The PV suffixes of an EPICS prefix; each becomes a property. Omitted, an address
        this session already has a proxy of gives that proxy (an ikarabo script's
        ``connectDevice(id)`` after a start-up that listed the PVs once).
    autodisconnect : float, optional
        Karabo's idle disconnection after N s; accepted, and the proxy stays connected
        (ADR 0008). With a proxy given: ``RuntimeError``, as Karabo.
    timeout : float or time quantity, optional
        For the schema and first values (the session default, 5 s, when omitted or -1).

    Returns
    -------
    DeviceProxy
        Connected: it follows every property until :func:`disconnect_device`.

    Raises
    ------
    ValidationError, NotFoundError, BackendUnavailableError, ChannelTimeoutError
    """
    if isinstance(device, DeviceProxy):
        if autodisconnect is not None:
            raise RuntimeError("autodisconnect= is for a device id, not an existing proxy")
        device._check_open()
        return device
    if autodisconnect is not None and not (isinstance(autodisconnect, (int, float)) and autodisconnect > 0):
        raise ValidationError(f"autodisconnect takes seconds > 0, not {autodisconnect!r}")
    known = _connected(device) if pvs is None else None
    if known is not None:  # a device id this session has a proxy of (an EPICS prefix's PVs given once)
        return known
    backend = _backend_for(device, pvs)
    s = session()
    budget = time_limit(timeout) or s.config.timeout
    with _registry_lock:
        proxy = _registry.get(backend.address)
        if proxy is not None and not proxy._closed and proxy._runtime is s.runtime:
            keys = getattr(proxy._backend, "keys", None)
            if pvs is not None and keys is not None and list(pvs) != list(keys):
                raise ValidationError(f"{backend.address} is already connected with pvs={keys}")
            return proxy
        proxy = run(_connect(backend, s.runtime, budget), timeout=budget + 1, what=f"connect {backend.address}")
        _registry[backend.address] = proxy
        return proxy


def get_device(device: Any, *, pvs: Sequence[str] | None = None, sync: Any = None, initialize: bool = True,
               timeout: Any = 5) -> DeviceProxy:
    """Karabo's ``getDevice``: the same connected proxy as :func:`connect_device`; use it
    as ``with get_device(...) as dev:``.

    ``sync`` (sync or async code) is accepted: ctlshell's verbs always block in user
    threads. ``initialize=False`` is accepted: the first values are always fetched, so a
    new value is new (ADR 0008).
    """
    if not isinstance(initialize, bool):
        raise ValidationError(f"initialize takes True or False, not {initialize!r}")
    return connect_device(device, pvs=pvs, timeout=timeout)


def _connected(device: Any) -> DeviceProxy | None:
    """The live proxy of this session for the address ``device``, if there is one."""
    if not isinstance(device, str) or not device.strip():
        return None
    try:
        addr = parse_address(device, "local")
    except Exception:
        return None
    with _registry_lock:
        proxy = _registry.get(f"{addr.scheme}://{addr.name}")
    if proxy is None or proxy._closed or proxy._runtime is not session().runtime:
        return None
    return proxy


async def _connect(backend: ProxyBackend, runtime: Any, budget: float) -> DeviceProxy:
    schema = await backend.connect(budget)
    proxy = DeviceProxy(backend, schema, runtime)
    try:
        await backend.subscribe(proxy._apply)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        while True:  # every property's first value, so a "new" value is new
            change = proxy._listen(None)
            missing = [k for k, n in proxy._generations().items() if n == 0]
            if not missing:
                change.cancel()
                _report_failed(proxy)
                return proxy
            try:
                await asyncio.wait_for(change, max(deadline - loop.time(), 0.001))
            except asyncio.TimeoutError:
                raise NotFoundError(f"{backend.address}: no value within {budget:g} s for {missing}") from None
    except BaseException:
        await backend.close()
        raise


def _report_failed(proxy: DeviceProxy) -> None:
    """Say which properties the device could not read (they are INVALID, with its error)."""
    failed = {key: value.status for key, value in proxy._values.items()
              if value.severity is Severity.INVALID and not value.is_set}
    if failed:
        log.warning("%s: connected; %d properties failed to read: %s", proxy._backend.address, len(failed),
                    "; ".join(f"{key} ({why})" for key, why in failed.items()))


def disconnect_device(proxy: DeviceProxy, *, timeout: Any = None, wait: bool = True) -> None:
    """Stop following the device; its proxy is dropped from the registry (again: harmless)."""
    if not isinstance(proxy, DeviceProxy):
        raise ValidationError(f"disconnect_device takes a proxy, not {proxy!r}")
    limit = time_limit(timeout) or 5
    with _registry_lock:
        if _registry.get(proxy._backend.address) is proxy:
            del _registry[proxy._backend.address]
    if not proxy._closed:
        object.__setattr__(proxy, "_closed", True)
        return run(proxy._backend.close(), timeout=limit, wait=wait,
                   what=f"disconnect {proxy._backend.address}")
    return None


def _proxy(device: Any) -> DeviceProxy:
    return device if isinstance(device, DeviceProxy) else connect_device(device)


def _changes(pairs: tuple[Any, ...], changes: dict[str, Any]) -> dict[str, Any]:
    if len(pairs) % 2:
        raise ValidationError("set_wait takes pairs of key and value: set_wait(dev, 'x', 1, 'y', 2)")
    out = dict(zip(pairs[::2], pairs[1::2]))
    if set(out) & set(changes):
        raise ValidationError(f"{sorted(set(out) & set(changes))} given twice")
    out.update(changes)
    if not out:
        raise ValidationError("nothing to set")
    return out


# -- writing -------------------------------------------------------------------------------------
def set_wait(device: Any, *pairs: Any, timeout: Any = None, wait: bool = True, **changes: Any) -> Any:
    """Set several properties, all or nothing: every key is validated before any is sent.

    ``set_wait(dev, x=1, y=2 * unit.mm)`` or ``set_wait(dev, "x", 1, "y", 2)``.
    Returns when the device has processed every write and the proxy shows them.

    Raises
    ------
    AttributeError
        An unknown key (nothing written).
    ValidationError, pint.DimensionalityError
        A read-only key, a wrong type, units or a value outside the limits (nothing written).
    PutRefusedError
        The device is locked by another client (nothing written), or the device refused
        a write (the message names what had been written before it).
    """
    proxy = _proxy(device)
    checked = proxy._validate(_changes(pairs, changes))
    return run(proxy._write(checked, wait=True, timeout=session().config.timeout), timeout=timeout, wait=wait,
               what=f"set_wait {proxy._backend.address}")


def set_no_wait(device: Any, *pairs: Any, **changes: Any) -> None:
    """As :func:`set_wait`, validated the same way, but returns once the writes are sent."""
    proxy = _proxy(device)
    checked = proxy._validate(_changes(pairs, changes))
    future = run(proxy._write(checked, wait=False, timeout=session().config.timeout), wait=False,
                 what=f"set_no_wait {proxy._backend.address}")

    def report(f: Any) -> None:
        if f.exception():
            log.error("set_no_wait %s failed: %s", proxy._backend.address, f.exception())

    future.add_done_callback(report)


def execute(device: Any, slot: str, *args: Any, timeout: Any = None, wait: bool = True) -> Any:
    """Call a slot (a command: a hosted object's ``SLOTS`` method, a Tango command).

    Parameters
    ----------
    device : DeviceProxy or str
    slot : str
    *args
        The slot's arguments (a Tango command takes at most one, checked against its
        input type before anything is sent).
    timeout : float or time quantity, optional
    wait : bool
        False: return a :class:`Future` at once.

    Returns
    -------
    object
        The slot's result.

    Raises
    ------
    AttributeError
        No such slot (nothing called).
    """
    proxy = _proxy(device)
    if slot not in proxy._schema.slots:
        raise AttributeError(proxy._unknown(slot))
    proxy._validate({})
    return run(proxy._backend.call(slot, session().config.timeout, *args), timeout=timeout, wait=wait,
               what=f"{proxy._backend.address} {slot}()")


def execute_no_wait(device: Any, slot: str) -> Future:
    """Start a slot and return its :class:`Future` at once."""
    return execute(device, slot, wait=False)


def get_properties(device: Any, keys: str | Sequence[str], *, timeout: Any = None, wait: bool = True) -> Any:
    """The named properties as a :class:`Hash`, in their native widths, each with
    Karabo's timestamp attributes ``sec``, ``frac`` (attoseconds) and ``tid``.

    Raises
    ------
    NotFoundError
        An unknown key, or one that is not a string (a :class:`KaraboError`).
    """
    proxy = _proxy(device)
    wanted = [keys] if isinstance(keys, str) else list(keys)
    for key in wanted:
        if not isinstance(key, str) or key not in proxy._schema.properties:
            raise NotFoundError(proxy._unknown(str(key)))

    async def read() -> Hash:
        return _configuration(proxy, wanted)

    return run(read(), timeout=timeout, wait=wait, what=f"get_properties {proxy._backend.address}")


def _configuration(proxy: DeviceProxy, keys: Sequence[str]) -> Hash:
    out = Hash()
    for key in keys:
        value, desc = proxy._value(key), proxy._schema.properties[key]
        raw = value.value
        if raw is not None and desc.numpy_type is not str and not isinstance(raw, (str, dict)):
            raw = np.asarray(raw, desc.numpy_type) if desc.metadata.is_array else desc.numpy_type(raw)
        out[key] = raw
        if value.timestamp is not None:
            out[key, ...] = value.timestamp.toDict()
    return out


def get_configuration(device: Any, *, timeout: Any = None, wait: bool = True) -> Any:
    """Every property as a :class:`Hash` (dotted keys as nodes), with ``sec``/``frac``/``tid``."""
    proxy = _proxy(device)

    async def read() -> Hash:
        return _configuration(proxy, list(proxy._schema.properties))

    return run(read(), timeout=timeout, wait=wait, what=f"get_configuration {proxy._backend.address}")


def update_device(device: Any, *, timeout: Any = None, wait: bool = True) -> Any:
    """Read every property from the device once (the proxy shows the result); returns the proxy."""
    proxy = _proxy(device)
    budget = session().config.timeout

    async def refresh() -> DeviceProxy:
        await asyncio.gather(*(proxy._refresh(k, budget) for k in proxy._schema.properties))
        return proxy

    return run(refresh(), timeout=timeout, wait=wait, what=f"update_device {proxy._backend.address}")


def get_schema(device: Any, onlyCurrentState: bool = False) -> Any:  # noqa: N803 (Karabo's keyword)
    """The device's :class:`Schema` (``.hash`` is Karabo's schema Hash). ctlshell's devices
    have no state-dependent schema: ``onlyCurrentState`` gives the same one."""
    return _proxy(device)._schema


def get_descriptors(device: Any) -> list[Any]:
    """Every property's :class:`Descriptor`, in order."""
    return list(_proxy(device)._schema.properties.values())


def compare_device_configuration(device_a: Any, device_b: Any) -> Hash:
    """The writable properties whose values differ: ``Hash(key, [value_a, value_b])``
    (properties of one device only count as differing from None)."""
    a, b = _proxy(device_a), _proxy(device_b)
    out = Hash()
    keys = [k for k, d in a._schema.properties.items() if d.writable]
    keys += [k for k, d in b._schema.properties.items() if d.writable and k not in keys]
    for key in keys:
        va = a._value(key).value if key in a._schema.properties else None
        vb = b._value(key).value if key in b._schema.properties else None
        if not _equal(va, vb):
            out[key] = [va, vb]
    return out


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(np.all(a == b)) and np.shape(a) == np.shape(b)
    except Exception:
        return False


def call(device: Any, slot: str, *args: Any, timeout: Any = None, wait: bool = True) -> Any:
    """Call a slot with arguments (Karabo's ``call``): a hosted object's ``SLOTS`` method.

    Raises
    ------
    AttributeError
        No such slot (nothing called).
    ValidationError
        Arguments to a device whose slots take none here (an EPICS prefix, a Tango command).
    """
    proxy = _proxy(device)
    if not isinstance(slot, str) or slot not in proxy._schema.slots:
        raise AttributeError(proxy._unknown(str(slot)))
    proxy._validate({})
    return run(proxy._backend.call_with(slot, args, session().config.timeout), timeout=timeout, wait=wait,
               what=f"{proxy._backend.address} {slot}(...)")


def call_no_wait(device: Any, slot: str, *args: Any) -> Future:
    """As :func:`call`, returning its :class:`Future` at once."""
    return call(device, slot, *args, wait=False)
