"""The device proxy: properties as attributes, slots as methods, one proxy per device.

A :class:`DeviceProxy` keeps the newest :class:`Value` of every property, fed by
subscriptions (from their threads), and wakes the waiters of ``wait_until_new`` and
``wait_until`` on the runtime loop. Assigning a property validates it locally
(access, units, type, limits) and then writes and waits; an unknown name raises
``AttributeError`` and sends nothing. Knows its :class:`ProxyBackend`, never a protocol.

Karabo's notions on any device: ``dev.state`` is a :class:`State` (from the device's
own ``state`` property, a Tango ``State`` attribute, a motor record's DMOV/MOVN, or
else ON while every property is connected); dotted keys (``motor.velocity``) are
nodes (``dev.motor.velocity``); a property named ``trainId`` stamps every value's
``timestamp.tid``. ``with dev:`` is accepted (the proxy stays connected).
"""

from __future__ import annotations

import asyncio
import difflib
import getpass
import html
import os
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

from ..core import PutRefusedError, Reading, Severity, ValidationError
from ._backend import TRAIN_KEY, ProxyBackend
from ._enums import State, state_from_label, state_from_tango, state_of_motor
from ._schema import Schema
from ._timestamp import Timestamp
from ._values import EnumValue, KaraboValue, Value

#: the key of the derived state (when the device has no property of that name)
STATE_KEY = "state"

__all__ = ["CLIENT_ID", "DeviceProxy"]

#: Who this client is, as written into a device's ``lockedBy``.
CLIENT_ID = f"{getpass.getuser()}@{socket.gethostname()}:{os.getpid()}"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) if not hasattr(a, "shape") else bool((a == b).all())
    except Exception:
        return False


class DeviceProxy:
    """A device: ``dev.position`` reads, ``dev.position = 5 * unit.mm`` writes,
    ``dev.home()`` calls a slot. Made by :func:`connect_device`.
    """

    def __init__(self, backend: ProxyBackend, schema: Schema, runtime: Any) -> None:
        object.__setattr__(self, "_backend", backend)
        object.__setattr__(self, "_schema", schema)
        object.__setattr__(self, "_runtime", runtime)
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_raw", {})  # key -> (timestamp, bare value) last applied
        object.__setattr__(self, "_gens", dict.fromkeys(schema.properties, 0))
        object.__setattr__(self, "_waiters", [])
        object.__setattr__(self, "_queues", {})  # key -> asyncio queues of every change (Queue)
        object.__setattr__(self, "_mutex", threading.Lock())
        object.__setattr__(self, "_lock_depth", 0)
        object.__setattr__(self, "_closed", False)

    # -- updates (subscription threads) and waiting (the loop) ----------------------------
    def _apply(self, key: str, reading: Reading) -> None:
        desc = self._schema.properties[key]
        connected = reading.severity is not Severity.DISCONNECTED
        with self._mutex:
            old = self._raw.get(key)
            if old is not None and old[1] is not None and connected and (reading.timestamp < old[0] or (
                    reading.timestamp == old[0] and _same(old[1], reading.value))):
                # already seen (a readback after a write, then its monitor update) or
                # older than what we show; an unset property takes any value
                return
            stamp = Timestamp.from_seconds(reading.timestamp, self._train_id(
                reading.value if key == TRAIN_KEY and connected else None))
            value = Value(reading.value if connected else None, stamp, desc)
            object.__setattr__(value, "_source", (self, key))
            self._raw[key] = (reading.timestamp, reading.value if connected else None)
            # alarm severity and status text of the reading (a failed read: INVALID, the device's error)
            object.__setattr__(value, "severity", reading.severity)
            object.__setattr__(value, "status", reading.status)
            self._values[key] = value
            self._gens[key] += 1
            if key == TRAIN_KEY and old is None and connected:
                # the first train id: the first values of the others, applied before it, get it too
                for other in self._values.values():
                    if other.timestamp is not None and not other.timestamp.tid:
                        other.timestamp.tid = self._train_id()
        if not self._runtime.closed:
            self._runtime.call_soon(self._notify, key, value)

    def _notify(self, key: str, value: Any = None) -> None:
        for queue in self._queues.get(key, ()):
            queue.put_nowait(value)
        for keys, future in [*self._waiters, *((None, f) for f in _ANY_CHANGE)]:
            if not future.done() and (keys is None or key in keys):
                future.set_result(key)

    def _listen(self, keys: Iterable[str] | None) -> asyncio.Future[str]:
        """A future (of the loop) set by the next update of any of ``keys`` (None: any).

        Registered at once, so an update that lands after this call is never missed.
        """
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        entry = (None if keys is None else frozenset(keys), future)
        self._waiters.append(entry)
        future.add_done_callback(lambda _: self._waiters.remove(entry))
        return future

    def _generations(self) -> dict[str, int]:
        with self._mutex:
            return dict(self._gens)

    async def _refresh(self, key: str, timeout: float) -> None:
        self._apply(key, await self._backend.read(key, timeout))

    # -- writing ------------------------------------------------------------------------------
    def _validate(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Every change checked before any is sent: ``{key: bare value}``."""
        self._check_open()
        unknown = [k for k in changes if k not in self._schema.properties]
        if unknown:
            raise AttributeError(self._unknown(unknown[0]) + "; nothing was written")
        checked = {key: self._schema.properties[key].validate(value) for key, value in changes.items()}
        lock_key = self._backend.lock_key
        if lock_key in self._values:
            holder = self._values[lock_key].value
            if holder and holder != CLIENT_ID and not self._lock_depth:
                raise PutRefusedError(f"{self._backend.address} is locked by {holder!r}; nothing was written")
        return checked

    async def _write(self, checked: dict[str, Any], *, wait: bool, timeout: float) -> None:
        done: list[str] = []
        for key, value in checked.items():
            try:
                await self._backend.write(key, value, wait=wait, timeout=timeout)
            except Exception as exc:
                if not done:
                    raise
                raise PutRefusedError(f"{self._backend.address}: writing {key} failed after "
                                      f"{', '.join(done)} had been written: {exc}") from exc
            done.append(key)
        if wait:  # the readbacks, so that the proxy shows what was written when we return
            await asyncio.gather(*(self._refresh(key, timeout) for key in checked))

    def _train_id(self, new: Any = None) -> int:
        """The device's current train id (``new``: a train id value being applied); 0 without one."""
        if new is None:
            train = self._raw.get(TRAIN_KEY)
            new = train[1] if train is not None else None
        try:
            return int(new) if new is not None else 0
        except (TypeError, ValueError):
            return 0

    # -- Karabo's state ----------------------------------------------------------------------
    def _state_sources(self) -> list[str]:
        props = self._schema.properties
        if STATE_KEY in props:
            return []
        if "State" in props:
            return ["State"]
        if "DMOV" in props or "MOVN" in props:
            return [k for k in ("DMOV", "MOVN") if k in props]
        return list(props)

    def _state(self) -> EnumValue:
        """The device's :class:`State` as a value, stamped by its source."""
        props = self._schema.properties
        sources = self._state_sources()
        values = [self._values.get(k) for k in sources]
        stamps = [v.timestamp for v in values if v is not None and v.timestamp is not None]
        if "State" in props and sources == ["State"]:
            raw = self._raw.get("State", (0, None))[1]
            state = State.UNKNOWN if raw is None else state_from_tango(raw)
        elif sources and sources[0] in ("DMOV", "MOVN"):
            raws = {k: self._raw.get(k, (0, None))[1] for k in sources}
            state = state_of_motor(raws.get("DMOV"), raws.get("MOVN"))
        else:
            state = State.ON if all(self._raw.get(k, (0, None))[1] is not None for k in sources) else State.UNKNOWN
        return EnumValue(state, max(stamps) if stamps else None)

    # -- attribute access ------------------------------------------------------------------
    def _value(self, key: str) -> Any:
        value = self._values.get(key)
        if value is None:
            value = Value(None, None, self._schema.properties[key])
            object.__setattr__(value, "_source", (self, key))
        elif key == STATE_KEY and isinstance(value, str):
            label = state_from_label(value)  # a hosted state item: its label as a State
            if label is not None:
                state = EnumValue(label, value.timestamp, value.descriptor)  # type: ignore[attr-defined]  # a StringValue
                object.__setattr__(state, "_source", (self, key))
                return state
        return value

    def __enter__(self) -> DeviceProxy:
        """``with getDevice(...) as dev:`` -- the proxy stays connected (ADR 0008)."""
        self._check_open()
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    async def __aenter__(self) -> DeviceProxy:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        return None

    def _unknown(self, name: str) -> str:
        names = [*self._schema.properties, *self._schema.slots]
        near = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        return f"{self._backend.address} has no property or slot {name!r}{hint}"

    def _check_open(self) -> None:
        if self._closed:
            raise ValidationError(f"the proxy of {self._backend.address} was disconnected")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        schema = self._schema
        if name in schema.properties:
            return self._value(name)
        if name == STATE_KEY:
            return self._state()
        if any(k.startswith(name + ".") for k in [*schema.properties, *schema.slots]):
            return _Node(self, name)
        if name in schema.slots:
            from ._verbs import execute

            def slot(*args: Any, timeout: Any = None, wait: bool = True) -> Any:
                return execute(self, name, *args, timeout=timeout, wait=wait)

            slot.__name__ = name
            slot.__doc__ = schema.slots[name].description
            return slot
        raise AttributeError(self._unknown(name))

    def __getitem__(self, key: str) -> Value:
        if key not in self._schema.properties:
            raise KeyError(self._unknown(key))
        return self._value(key)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._schema.slots:
            raise AttributeError(f"{name} is a slot of {self._backend.address}; call it: dev.{name}()")
        if name not in self._schema.properties:
            raise AttributeError(self._unknown(name) + "; nothing was written")
        from ._verbs import set_wait

        set_wait(self, **{name: value})

    def __setitem__(self, key: str, value: Any) -> None:
        from ._verbs import set_wait

        set_wait(self, key, value)

    def __dir__(self) -> list[str]:
        heads = {k.split(".")[0] for k in [*self._schema.properties, *self._schema.slots]}  # nodes too
        names = {k for k in heads if k.isidentifier()} | {STATE_KEY}
        return sorted(names | {n for n in object.__dir__(self) if not n.startswith("_")})

    # -- display -----------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (f"<DeviceProxy {self._backend.address!r}: {len(self._schema.properties)} properties, "
                f"{len(self._schema.slots)} slots>")

    def _repr_html_(self) -> str:
        """A table of every property as the proxy has it now (rendered afresh each time)."""
        rows = []
        for key, desc in self._schema.properties.items():
            value = self._values.get(key)
            shown = "(unset)" if value is None or not value.is_set else str(value.value)
            stamp = "" if value is None or value.timestamp is None else time.strftime(
                "%H:%M:%S", time.localtime(value.timestamp.toTimestamp()))
            cells = (key, shown, desc.metadata.units, stamp, desc.access_mode.lower())
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        slots = ", ".join(html.escape(s + "()") for s in self._schema.slots) or "none"
        return (f"<b>{html.escape(self._backend.address)}</b><table><tr><th>property</th><th>value</th>"
                f"<th>units</th><th>time</th><th>access</th></tr>{''.join(rows)}</table>slots: {slots}")


class _Node:
    """A node of a proxy: ``dev.motor`` for the keys ``motor.*``; ``dev.motor.velocity``."""

    def __init__(self, proxy: DeviceProxy, path: str) -> None:
        object.__setattr__(self, "_proxy", proxy)
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._proxy, f"{self._path}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._proxy, f"{self._path}.{name}", value)

    def __dir__(self) -> list[str]:
        keys = [*self._proxy._schema.properties, *self._proxy._schema.slots]
        return sorted({k[len(self._path) + 1:].split(".")[0] for k in keys if k.startswith(self._path + ".")})

    def __repr__(self) -> str:
        return f"<node {self._path} of {self._proxy!r}>"


def source_of(value: Any) -> tuple[DeviceProxy, str]:
    """The (proxy, key) a value was read from; raises for a derived or plain value."""
    src = getattr(value, "_source", None) if isinstance(value, KaraboValue) else None
    if src is None:
        raise ValidationError(f"{value!r} was not read from a device proxy (pass dev.prop, not a derived value)")
    return src


#: Futures set by the next update of any property of any proxy (``wait_until``).
_ANY_CHANGE: list[asyncio.Future[str]] = []


def listen_any() -> asyncio.Future[str]:
    """A future (of the loop) set by the next update of any proxy's property."""
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    _ANY_CHANGE.append(future)
    future.add_done_callback(lambda f: _ANY_CHANGE.remove(f))
    return future
