"""The verbs: ``connect_device``, ``set_wait``, ``wait_until_new``, ``lock``, ``sleep``...

Each blocking verb is a plain function that checks its arguments in the caller's
thread (so bad input raises at once and nothing is sent) and hands one coroutine
to :func:`run`, which adds ``timeout=`` and ``wait=False``. Which backend serves a
device is decided in one table (:data:`_KINDS`), by address scheme.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import importlib
import inspect
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..api import session
from ..core import BackendUnavailableError, NotFoundError, PutRefusedError, ValidationError, parse_address
from ._backend import ChannelBackend, HostedBackend, ProxyBackend
from ._hash import Hash
from ._proxy import CLIENT_ID, DeviceProxy, listen_any, source_of
from ._sync import Future, run
from ._units import seconds

__all__ = [
    "DeviceLock", "background", "connect_device", "disconnect_device", "execute", "execute_no_wait",
    "get_device", "get_properties", "lock", "set_no_wait", "set_wait", "sleep", "wait_until", "wait_until_new",
    "wait_while",
]

log = logging.getLogger(__name__)
_registry: dict[str, DeviceProxy] = {}
_registry_lock = threading.Lock()
_workers = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="ctlshell-background")


# -- which backend serves an address --------------------------------------------------------
def _hosted(name: str, pvs: Sequence[str] | None) -> ProxyBackend:
    for obj in session().objects:
        if getattr(obj, "prefix", None) == name:
            return HostedBackend(obj)
    if pvs is not None:
        return ChannelBackend("local", name, pvs)
    raise NotFoundError(f"nothing hosted here has the prefix {name!r}; pass pvs=[...] for plain local PVs")


def _tango(name: str, pvs: Sequence[str] | None) -> ProxyBackend:
    # the Tango proxy backend is one module, _tango.py (TangoBackend(name, pvs)), loaded on use
    try:
        module = importlib.import_module(f"{__package__}._tango")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}._tango":
            raise
        raise BackendUnavailableError(
            "Tango device proxies need ctlshell's Tango backend, which is not merged yet") from None
    return module.TangoBackend(name, pvs)  # type: ignore[no-any-return]


_KINDS: dict[str, Callable[[str, Sequence[str] | None], ProxyBackend]] = {
    "local": _hosted,
    "ca": functools.partial(ChannelBackend, "ca"),  # type: ignore[dict-item]
    "pva": functools.partial(ChannelBackend, "pva"),  # type: ignore[dict-item]
    "tango": _tango,
}


def _backend_for(device: Any, pvs: Sequence[str] | None) -> ProxyBackend:
    if not isinstance(device, str):
        if pvs is not None:
            raise ValidationError("pvs= is for an address; a hosted object brings its own PVs")
        return HostedBackend(device)
    if not device.strip():
        raise ValidationError("connect_device needs a device address, e.g. 'ca://BL:M1:' or 'local://OVEN:'")
    addr = parse_address(device, "local")
    factory = _KINDS.get(addr.scheme)
    if factory is None:
        raise ValidationError(f"no device proxies for {addr.scheme}:// addresses")
    return factory(addr.name, None if pvs is None else list(pvs))


# -- proxies -----------------------------------------------------------------------------------
def connect_device(device: Any, *, pvs: Sequence[str] | None = None, timeout: Any = None) -> DeviceProxy:
    """The proxy of a device: one per device and client (a second call returns the same one).

    Parameters
    ----------
    device : str or hosted object
        ``"local://PREFIX"`` or a :class:`Daemon` / :class:`Device` hosted here;
        ``"ca://PREFIX"`` / ``"pva://PREFIX"`` with ``pvs``; ``"tango://dom/fam/mem"``.
    pvs : sequence of str, optional
        The PV suffixes of an EPICS prefix; each becomes a property.
    timeout : float or time quantity, optional
        For the schema and first values (the session default, 5 s, when omitted).

    Returns
    -------
    DeviceProxy
        Connected: it follows every property until :func:`disconnect_device`.

    Raises
    ------
    ValidationError, NotFoundError, BackendUnavailableError, ChannelTimeoutError
    """
    backend = _backend_for(device, pvs)
    s = session()
    budget = seconds(timeout) or s.config.timeout
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


#: Karabo's ``getDevice``: here the same connected proxy as :func:`connect_device`.
get_device = connect_device


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
                return proxy
            try:
                await asyncio.wait_for(change, max(deadline - loop.time(), 0.001))
            except asyncio.TimeoutError:
                raise NotFoundError(f"{backend.address}: no value within {budget:g} s for {missing}") from None
    except BaseException:
        await backend.close()
        raise


def disconnect_device(proxy: DeviceProxy) -> None:
    """Stop following the device; its proxy is dropped from the registry."""
    with _registry_lock:
        if _registry.get(proxy._backend.address) is proxy:
            del _registry[proxy._backend.address]
    if not proxy._closed:
        object.__setattr__(proxy, "_closed", True)
        run(proxy._backend.close(), timeout=5, what=f"disconnect {proxy._backend.address}")


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
    future.add_done_callback(lambda f: f.exception() and log.error("set_no_wait %s failed: %s",
                                                                   proxy._backend.address, f.exception()))


def execute(device: Any, slot: str, *, timeout: Any = None, wait: bool = True) -> Any:
    """Call a slot (a command) and return its result."""
    proxy = _proxy(device)
    if slot not in proxy._schema.slots:
        raise AttributeError(proxy._unknown(slot))
    proxy._validate({})
    return run(proxy._backend.call(slot, session().config.timeout), timeout=timeout, wait=wait,
               what=f"{proxy._backend.address} {slot}()")


def execute_no_wait(device: Any, slot: str) -> Future:
    """Start a slot and return its :class:`Future` at once."""
    return execute(device, slot, wait=False)  # type: ignore[no-any-return]


def get_properties(device: Any, keys: str | Sequence[str]) -> Hash:
    """The named properties as a :class:`Hash`, in their native widths, each with
    attributes ``timestamp``, ``sec``, ``frac`` and ``units``.

    Raises
    ------
    NotFoundError
        An unknown key.
    """
    proxy = _proxy(device)
    wanted = [keys] if isinstance(keys, str) else list(keys)
    for key in wanted:
        if not isinstance(key, str) or key not in proxy._schema.properties:
            raise NotFoundError(proxy._unknown(str(key)))
    out = Hash()
    for key in wanted:
        value, desc = proxy._value(key), proxy._schema.properties[key]
        raw = value.value
        if raw is not None and desc.numpy_type is not str:
            raw = np.asarray(raw, desc.numpy_type) if desc.metadata.is_array else desc.numpy_type(raw)
        out[key] = raw
        stamp = value.timestamp
        out[key, "timestamp"] = stamp
        if stamp is not None:
            out[key, "sec"], out[key, "frac"] = int(stamp), int(round(stamp % 1 * 1e18))
        out[key, "units"] = desc.metadata.units
    return out


# -- waiting ---------------------------------------------------------------------------------------
def wait_until_new(*props: Any, timeout: Any = None, wait: bool = True) -> Any:
    """Wait until any of ``props`` (``dev.x`` values, or whole proxies) gets a new value.

    Works on properties that are still unset. Returns the new value.
    """
    if not props:
        raise ValidationError("wait_until_new needs at least one property (dev.x) or proxy")
    groups: dict[int, tuple[DeviceProxy, set[str] | None]] = {}
    for prop in props:
        proxy, key = (prop, None) if isinstance(prop, DeviceProxy) else source_of(prop)
        _, keys = groups.setdefault(id(proxy), (proxy, set()))
        if key is None or keys is None:
            groups[id(proxy)] = (proxy, None)
        else:
            keys.add(key)
    start = {pid: proxy._generations() for pid, (proxy, _) in groups.items()}  # taken now, in the caller

    async def waiting() -> Any:
        while True:
            futures = [proxy._listen(keys) for proxy, keys in groups.values()]
            try:
                for pid, (proxy, keys) in groups.items():
                    now = proxy._generations()
                    for key, gen in now.items():
                        if (keys is None or key in keys) and gen > start[pid][key]:
                            return proxy._value(key)
                await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for future in futures:
                    future.cancel()

    return run(waiting(), timeout=timeout, wait=wait, what="wait_until_new")


def wait_until(condition: Callable[[], object], *, timeout: Any = None, wait: bool = True) -> Any:
    """Wait until ``condition()`` is true; it is evaluated now and after every property
    update of any proxy (on the runtime thread: read proxies in it, call no verbs)."""
    if not callable(condition):
        raise ValidationError(f"wait_until needs a callable, not {condition!r}")

    async def waiting() -> Any:
        while True:
            change = listen_any()
            try:
                result = condition()
                if result:
                    return result
                await change
            finally:
                change.cancel()

    return run(waiting(), timeout=timeout, wait=wait, what="wait_until")


def wait_while(condition: Callable[[], object], *, timeout: Any = None, wait: bool = True) -> Any:
    """Wait while ``condition()`` is true (see :func:`wait_until`)."""
    if not callable(condition):
        raise ValidationError(f"wait_while needs a callable, not {condition!r}")
    return wait_until(lambda: not condition(), timeout=timeout, wait=wait)


# -- locking ---------------------------------------------------------------------------------------
class DeviceLock:
    """A held lock of a device; release it with ``with`` or :meth:`release`. Re-entrant."""

    def __init__(self, proxy: DeviceProxy) -> None:
        self.proxy = proxy
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            run(_release(self.proxy), timeout=session().config.timeout + 1,
                what=f"unlock {self.proxy._backend.address}")

    def __enter__(self) -> DeviceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<DeviceLock {self.proxy._backend.address} {'released' if self._released else 'held'}>"


def lock(device: Any, *, timeout: Any = None, wait: bool = True) -> Any:
    """Lock a device for this client: ``with lock(dev, timeout=10): ...``.

    A hosted device (or any device with a ``lockedBy`` property) is locked through
    it, and its server refuses other clients' writes while it is held; a Tango device
    uses Tango's own lock. Waits while another client holds it (``timeout=`` bounds
    the wait: ``TimeoutError``).
    """
    proxy = _proxy(device)
    backend = proxy._backend
    if backend.lock_key is not None and backend.lock_key not in proxy._schema.properties:
        raise ValidationError(f"{backend.address} has no {backend.lock_key!r} property to lock it with "
                              "(host a Daemon with LOCKABLE = True, or list 'lockedBy' in pvs)")
    return run(_acquire(proxy), timeout=timeout, wait=wait, what=f"lock {backend.address}")


async def _acquire(proxy: DeviceProxy) -> DeviceLock:
    backend, budget = proxy._backend, session().config.timeout
    if proxy._lock_depth:
        object.__setattr__(proxy, "_lock_depth", proxy._lock_depth + 1)
        return DeviceLock(proxy)
    key = backend.lock_key
    if key is None:
        await backend.lock(CLIENT_ID, budget)
    else:
        while True:
            change = proxy._listen({key})
            try:
                holder = proxy._value(key).value
                if not holder or holder == CLIENT_ID:
                    try:
                        await backend.write(key, CLIENT_ID, wait=True, timeout=budget)
                    except PutRefusedError:  # another client was quicker
                        await proxy._refresh(key, budget)
                        continue
                    await proxy._refresh(key, budget)
                    break
                await change  # held by someone else: wait for it to change
            finally:
                change.cancel()
    object.__setattr__(proxy, "_lock_depth", 1)
    return DeviceLock(proxy)


async def _release(proxy: DeviceProxy) -> None:
    depth = proxy._lock_depth - 1
    object.__setattr__(proxy, "_lock_depth", max(depth, 0))
    if depth > 0:
        return
    backend, budget = proxy._backend, session().config.timeout
    if backend.lock_key is None:
        await backend.unlock(CLIENT_ID, budget)
    else:
        await backend.write(backend.lock_key, "", wait=True, timeout=budget)
        await proxy._refresh(backend.lock_key, budget)


# -- time and background work ---------------------------------------------------------------------
def sleep(delay: Any, *, timeout: Any = None, wait: bool = True) -> Any:
    """Sleep ``delay`` seconds (or a time quantity: ``sleep(200 * unit.ms)``); cancellable.

    Raises
    ------
    pint.DimensionalityError
        For a quantity that is not a time.
    """
    secs = seconds(delay)
    if secs is None or not secs >= 0:
        raise ValidationError(f"sleep needs a delay >= 0, not {delay!r}")
    return run(asyncio.sleep(secs), timeout=timeout, wait=wait, what=f"sleep {secs:g} s")


def background(fn: Any, *args: Any, timeout: Any = None, **kwargs: Any) -> Future:
    """Run a coroutine function, a coroutine or a plain function (in a worker thread,
    where verbs block as usual) in the background; returns its :class:`Future`.
    An exception is logged and raised again by ``future.wait()``."""
    if inspect.iscoroutine(fn):
        coro = fn
    elif inspect.iscoroutinefunction(fn):
        coro = fn(*args, **kwargs)
    elif callable(fn):
        coro = _in_thread(fn, args, kwargs)
    else:
        raise ValidationError(f"background needs a function or coroutine, not {fn!r}")
    name = getattr(fn, "__qualname__", repr(fn))
    return run(_logged(coro, name), timeout=timeout, wait=False, what=f"background {name}")  # type: ignore[no-any-return]


async def _in_thread(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return await asyncio.get_running_loop().run_in_executor(_workers, functools.partial(fn, *args, **kwargs))


async def _logged(coro: Any, name: str) -> Any:
    try:
        return await coro
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("error in background task %s", name)
        raise
