"""The blocking facade: ``get``, ``put``, ``monitor``, ``info``, ``status``, ``host``.

Magics, widgets and scripts call these. Each verb parses its address, then runs
one coroutine of the channel cache on the runtime loop with a timeout. The session
(runtime, store, cache, servers) is created on first use and closed at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .backends import DEFAULT_BACKENDS
from .backends.local import LocalBackend
from .core import (
    BackendRegistry,
    ChannelCache,
    ChannelStatus,
    CommandInfo,
    Config,
    Metadata,
    WriteRule,
    PVStore,
    Reading,
    Runtime,
    Subscription,
    ValidationError,
    parse_address,
    parse_policy,
)
from .gateway import Gateway, GatewayConfig
from .host import Daemon, Device, HostedPV, JournalEntry, PVSpec, StateFile, is_pvgroup

__all__ = [
    "ChannelInfo", "Command", "Session", "command", "configure", "describe", "gateway", "get", "host", "hosted",
    "info", "journal", "known_names", "monitor", "put", "restrict_writes", "session", "shutdown", "status",
    "unhost",
]

log = logging.getLogger(__name__)


class Session:
    """Everything one ctlshell session owns.

    Parameters
    ----------
    config : Config, optional
        Defaults to :meth:`Config.from_env`.
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config.from_env()
        self.runtime = Runtime()
        self.store = PVStore()
        entries: dict[str, Any] = dict(DEFAULT_BACKENDS)
        entries["local"] = lambda: LocalBackend(self.store)
        self.registry = BackendRegistry(entries)
        self.cache = ChannelCache(self.registry)
        self.handles: dict[str, HostedPV] = {}
        #: hosted devices, daemons and caproto groups, in the order they started
        self.objects: list[Any] = []
        self.state = StateFile(self.config.state_file or ":memory:")
        self.store.add_write_hook(self.state.record)
        self._ca_server: Any = None
        self._pva_server: Any = None
        self.gateways: list[Gateway] = []
        self._sweeper: asyncio.Task[None] | None = None
        self._lock = threading.Lock()
        self._notes: dict[Any, Reading] = {}
        self.runtime.on_shutdown(self._close)

    # -- plumbing --------------------------------------------------------------------
    def run(self, coro: Any, timeout: float | None, what: str) -> Any:
        self._ensure_sweeper()
        budget = self.config.timeout if timeout is None else timeout
        if not budget > 0:
            coro.close()
            raise ValidationError(f"timeout must be positive, not {timeout!r}")
        # the coroutine gets the budget; the outer wait a little more, so the
        # backend's own, better worded timeout error wins
        return self.runtime.call(coro, budget + 1.0, what)

    def note(self, address: Any, reading: Reading) -> None:
        """Keep a reading got on a caller's thread for the cache, which takes the notes on
        the loop before it reports or sweeps (no wake-up of the loop per read)."""
        self._ensure_sweeper()
        with self._lock:
            self._notes[address] = reading

    def flush_notes(self) -> None:
        """Hand the notes to the cache (on the loop)."""
        with self._lock:
            notes, self._notes = self._notes, {}
        for address, reading in notes.items():
            self.cache.note(address, reading)

    def _ensure_sweeper(self) -> None:
        if self._sweeper is None:
            with self._lock:
                if self._sweeper is None:
                    self._sweeper = self.runtime.submit(self._sweep_forever())  # type: ignore[assignment]

    async def _sweep_forever(self) -> None:
        # wakes at least once a second so a changed sweep_period takes effect soon
        waited = 0.0
        while True:
            step = min(self.config.sweep_period, 1.0)
            await asyncio.sleep(step)
            waited += step
            if waited >= self.config.sweep_period:
                waited = 0.0
                self.flush_notes()
                dropped = self.cache.sweep()
                if dropped:
                    log.debug("sweep dropped %s", ", ".join(map(str, dropped)))

    async def _close(self) -> None:
        # clients first, while our own servers still answer, so their circuits close
        # cleanly (libca otherwise waits 30 s at exit for circuits to a dead server)
        await self.cache.close()
        for obj in reversed(self.objects):
            try:
                await self.stop_object(obj)
            except Exception:
                log.exception("stopping %r failed", obj)
        self.objects.clear()
        for backend in self.registry.loaded().values():
            try:
                await backend.close()
            except Exception:
                log.exception("closing the %s backend failed", backend.scheme)
        if self._ca_server is not None:
            await self._ca_server.stop()
        if self._pva_server is not None:
            await self._pva_server.stop()
        for gw in list(self.gateways):
            gw.close()
        self.state.close()

    async def stop_object(self, obj: Any) -> None:
        """Stop a hosted device, daemon or group (on the loop)."""
        if isinstance(obj, (Device, Daemon)):
            obj.stop()  # joins its threads briefly; none of them waits on the loop
        else:
            await obj.stop()

    def ca_server(self) -> Any:
        """The hosted CA server, started on first use."""
        with self._lock:
            if self._ca_server is None:
                from .host import CaServer

                server = CaServer(self.store, self.config)
                self.runtime.call(server.start(), self.config.timeout + 5, "starting the CA server")
                self._ca_server = server
            return self._ca_server

    def pva_server(self) -> Any:
        """The hosted PVA server, started on first use (None with ``serve_pva=False``)."""
        if not self.config.serve_pva:
            return None
        with self._lock:
            if self._pva_server is None:
                from .host import PvaServer

                server = PvaServer(self.store, self.config)
                self.runtime.call(server.start(), self.config.timeout + 5, "starting the PVA server")
                self._pva_server = server
            return self._pva_server

    def close(self) -> None:
        self.runtime.shutdown()


_session: Session | None = None
_session_lock = threading.Lock()


def session() -> Session:
    """The current session, created on first use."""
    global _session
    with _session_lock:
        if _session is None or _session.runtime.closed:
            _session = Session()
        return _session


def configure(**settings: Any) -> Config:
    """Change session settings (see :class:`ctlshell.core.Config`); returns the new config.

    Server settings take effect only before the first ``host()``.
    """
    s = session()
    new = s.config.replace(**settings)
    if new.state_file != s.config.state_file:
        state = StateFile(new.state_file or ":memory:")  # a bad path raises before anything changes
        s.store.remove_write_hook(s.state.record)
        s.state.close()
        s.state = state
        s.store.add_write_hook(state.record)
    s.config = new
    return s.config


def shutdown() -> None:
    """Close every subscription and server and stop the runtime. Idempotent."""
    global _session
    with _session_lock:
        if _session is not None:
            _session.close()
            _session = None


atexit.register(shutdown)


# -- client verbs -----------------------------------------------------------------
#: parse_address is pure; reading the same channel in a loop should not parse it each time
_parse_cached = functools.lru_cache(maxsize=4096)(parse_address)


def get(address: str, *, timeout: float | None = None) -> Reading:
    """Read a channel.

    Parameters
    ----------
    address : str
        ``ca://NAME``, ``pva://NAME``, ``tango://...``, ``local://NAME`` or a bare name.
    timeout : float, optional
        Seconds; the session default (5 s) when omitted.

    Returns
    -------
    Reading
        Value, server timestamp, severity and status.

    Raises
    ------
    AddressError, ChannelTimeoutError, BackendUnavailableError, NotFoundError
    """
    s = session()
    scheme = s.config.default_scheme
    addr = _parse_cached(address, scheme) if type(address) is str else parse_address(address, scheme)
    budget = timeout or s.config.timeout
    if not s.runtime.in_loop_thread() and budget > 0:
        reading = s.registry.get(addr.scheme).get_now(addr.name, budget)
        if reading is not None:  # read on this thread; the cache hears of it on the loop
            s.note(addr, reading)
            return reading
    return s.run(s.cache.get(addr, budget), timeout, f"get {addr}")


def put(address: str, value: Any, *, wait: bool = False, timeout: float | None = None) -> None:
    """Write a channel. The value is checked against the channel's type and control
    limits first; a refused value raises ``ValidationError`` and nothing is sent.

    Parameters
    ----------
    address : str
    value : Any
    wait : bool
        Return only when the server has processed the write (CA put-callback);
        server refusals are only reported with ``wait=True``.
    timeout : float, optional

    Raises
    ------
    AddressError, ValidationError, PutRefusedError, ChannelTimeoutError
    """
    s = session()
    addr = parse_address(address, s.config.default_scheme)
    s.run(s.cache.put(addr, value, wait=wait, timeout=timeout or s.config.timeout), timeout, f"put {addr}")


def info(address: str, *, timeout: float | None = None) -> Metadata:
    """Units, precision, limits, choices, native type and access of a channel."""
    s = session()
    addr = parse_address(address, s.config.default_scheme)
    return s.run(s.cache.info(addr, timeout or s.config.timeout), timeout, f"info {addr}")


def monitor(address: str, callback: Callable[[Reading], object], *, policy: object = "latest",
            timeout: float | None = None) -> Subscription:
    """Call ``callback(reading)`` on every update, from a thread of the subscription's own.

    Parameters
    ----------
    address : str
    callback : callable
        Gets each :class:`Reading`; a reading with severity ``DISCONNECTED`` marks a
        lost server, and updates resume by themselves when it returns.
    policy : "latest", int or KeepLatest/KeepLast
        What to keep while the callback is busy: the newest reading only (default),
        or the last N. What is dropped is counted in ``.dropped``.
    timeout : float, optional
        Bounds only the setting-up; the subscription itself waits for the server.

    Returns
    -------
    Subscription
        With ``.dropped``, ``.delivered``, ``.last`` and ``.close()``.
    """
    if not callable(callback):
        raise ValidationError(f"callback must be callable, not {type(callback).__name__}")
    s = session()
    addr = parse_address(address, s.config.default_scheme)
    chosen = parse_policy(policy)

    def on_close(sub: Subscription) -> None:
        if not s.runtime.closed:
            s.runtime.submit(s.cache.unsubscribe(sub))

    return s.run(s.cache.subscribe(addr, callback, chosen, on_close), timeout, f"monitor {addr}")


def status() -> list[ChannelStatus]:
    """Every channel of the session with its state, users, updates and last update."""
    s = session()

    async def snapshot() -> list[ChannelStatus]:
        s.flush_notes()
        return s.cache.status()

    return s.run(snapshot(), None, "status")


# -- hosting -----------------------------------------------------------------------
_MISSING: Any = object()


def host(name: Any, value: Any = _MISSING, *, units: str | None = None, precision: int | None = None,
         limits: Sequence[float] | None = None, alarm_limits: Sequence[float] | None = None,
         warning_limits: Sequence[float] | None = None, enum: Sequence[str] | None = None,
         writable: bool = False, doc: str | None = None, pva: bool = True) -> HostedPV:
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


def _host_object(s: Session, obj: Any) -> Any:
    if any(o is obj for o in s.objects):
        raise ValidationError(f"{obj!r} is already hosted")
    server = s.ca_server()
    s.pva_server()  # devices and daemons live in the store: served on PVA as well
    if isinstance(obj, Device):
        obj.start(s.store)
    elif isinstance(obj, Daemon):
        obj.start(s.store, s.state)
    elif is_pvgroup(obj):
        from .host import HostedGroup

        hosted_group = HostedGroup(obj, server)
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


# -- for the interactive layer: one channel's whole story, and the names known here ----
@dataclass(frozen=True)
class ChannelInfo:
    """What ``describe()`` knows about one channel.

    Attributes
    ----------
    address : str
    metadata : Metadata
    status : ChannelStatus or None
        Its entry in the channel cache (state, local users, updates, dropped, last update).
    server : str
        ``"this process"`` for a PV hosted here, else what the backend reports ("" if nothing).
    """

    address: str
    metadata: Metadata
    status: ChannelStatus | None
    server: str = ""


def describe(address: str, *, timeout: float | None = None) -> ChannelInfo:
    """Metadata, connection state, server, local subscribers and drops of a channel."""
    s = session()
    addr = parse_address(address, s.config.default_scheme)

    async def gather() -> ChannelInfo:
        meta = await s.cache.info(addr, timeout or s.config.timeout)
        status = next((st for st in s.cache.status() if st.address == str(addr)), None)
        if addr.scheme in ("ca", "local") and addr.name in set(s.store.names()):
            server = "this process"
        else:
            backend = s.cache.entry(addr).backend
            server = str(getattr(backend, "server_of", lambda name: "")(addr.name) or "")
        return ChannelInfo(str(addr), meta, status, server)

    return s.run(gather(), timeout, f"describe {addr}")  # type: ignore[no-any-return]


def known_names() -> list[str]:
    """Addresses this process knows without asking any server: hosted PVs and the
    channel cache. Never creates a session, opens a socket or runs device code."""
    s = _session
    if s is None or s.runtime.closed:
        return []
    names = {f"ca://{n}" for n in s.store.names()}
    for obj in list(s.objects):
        names.update(f"ca://{n}" for n in getattr(obj, "names", ()))
    try:
        names.update(str(a) for a in s.cache.addresses())
    except RuntimeError:  # the loop changed the cache under us: skip it this time
        pass
    return sorted(names)


# -- gateway -----------------------------------------------------------------------
def gateway(config: GatewayConfig | str | None = None, *, status_period: float = 5.0,
            timeout: float = 20.0, **settings: Any) -> Gateway:
    """Start a p4p PV Access gateway (``p4p.gw``) in a process of its own.

    Parameters
    ----------
    config : GatewayConfig or str, optional
        Settings, or the path of a p4p.gw JSON file written for a site.
    status_period : float
        Seconds between updates of the gateway's status PVs.
    timeout : float
        Seconds to wait for it to serve.
    **settings
        :class:`ctlshell.gateway.GatewayConfig` fields (``upstream``, ``server_port``,
        ``broadcast_port``, ``status_prefix``, ``read_only``, ...), without ``config``.

    Returns
    -------
    Gateway
        ``.stop()``, ``.status_names()``, ``.log()``; stopped at ``shutdown()``.

    Raises
    ------
    ValidationError
        A bad setting; nothing was started.
    GatewayError
        The gateway process did not start (its log is in the message).
    """
    if config is None:
        config = GatewayConfig().replace(**settings)
    elif settings:
        if not isinstance(config, GatewayConfig):
            raise ValidationError("give either a configuration file or settings, not both")
        config = config.replace(**settings)
    gw = Gateway(config, status_period=status_period)
    gw.start(timeout)
    session().gateways.append(gw)
    return gw


# -- commands (Tango commands; later device slots) --------------------------------------
class Command:
    """A command of a device, called like a function: ``move = command("tango://m/x/1->MoveRelative")``,
    then ``move(2.5)``.

    Parameters
    ----------
    address : str
        ``tango://[host:port/]domain/family/member->Command``.
    """

    def __init__(self, address: str) -> None:
        s = session()
        self.address = parse_address(address, s.config.default_scheme)
        s.registry.get(self.address.scheme)  # an unknown scheme or missing library fails now

    def info(self, *, timeout: float | None = None) -> CommandInfo:
        """Argument and result types of the command."""
        s = session()
        backend = s.registry.get(self.address.scheme)
        return s.run(backend.command_info(self.address.name, timeout or s.config.timeout), timeout,
                     f"command info {self.address}")

    def __call__(self, argument: Any = None, *, timeout: float | None = None) -> Any:
        """Run the command and return its result.

        Raises
        ------
        ValidationError
            The argument does not match the command's input type; nothing was sent.
        DeviceError
            The device refused or failed (its reason and text are in the message).
        ChannelTimeoutError, DisconnectedError, NotFoundError
        """
        s = session()
        backend = s.registry.get(self.address.scheme)
        return s.run(backend.execute(self.address.name, argument, timeout or s.config.timeout), timeout,
                     f"command {self.address}")

    def __repr__(self) -> str:
        return f"<Command {self.address}>"


def command(address: str) -> Command:
    """The command at ``address`` as a callable :class:`Command` (see there)."""
    return Command(address)
