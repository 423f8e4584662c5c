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
    PVStore,
    Reading,
    Runtime,
    SoftPV,
    Subscription,
    ValidationError,
    infer_dtype,
    parse_address,
    parse_policy,
)
from .host import HostedPV

__all__ = [
    "Command", "Session", "command", "configure", "get", "host", "hosted", "info", "monitor", "put", "session",
    "shutdown", "status", "unhost",
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
        self._ca_server: Any = None
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
        for backend in self.registry.loaded().values():
            try:
                await backend.close()
            except Exception:
                log.exception("closing the %s backend failed", backend.scheme)
        if self._ca_server is not None:
            await self._ca_server.stop()

    def ca_server(self) -> Any:
        """The hosted CA server, started on first use."""
        with self._lock:
            if self._ca_server is None:
                from .host import CaServer

                server = CaServer(self.store, self.config)
                self.runtime.call(server.start(), self.config.timeout + 5, "starting the CA server")
                self._ca_server = server
            return self._ca_server

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
    s.config = s.config.replace(**settings)
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
def _pair(name: str, value: Sequence[float] | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a (low, high) pair of numbers, not {value!r}") from None
    if lo > hi:
        raise ValidationError(f"{name}: low {lo} is above high {hi}")
    return (lo, hi)


def host(name: str, value: Any, *, units: str | None = None, precision: int | None = None,
         limits: Sequence[float] | None = None, alarm_limits: Sequence[float] | None = None,
         warning_limits: Sequence[float] | None = None, enum: Sequence[str] | None = None,
         writable: bool = False, doc: str | None = None) -> HostedPV:
    """Serve a PV from this process on Channel Access (bound to loopback by default).

    Parameters
    ----------
    name : str
        The PV name, e.g. ``"BL:SAMPLE:TEMP"``.
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

    Returns
    -------
    HostedPV
        Set ``.value`` to publish; ``.on_write(cb)`` to hear client writes.

    Raises
    ------
    AddressError, ValidationError
    """
    s = session()
    addr = parse_address(name, "ca")
    if addr.scheme not in ("ca", "local"):
        raise ValidationError(f"host() serves CA names; {addr.scheme}:// hosting is not available yet")
    if enum is not None:
        enum = tuple(str(c) for c in enum)
        if not 1 <= len(enum) <= 16 or any(len(c) >= 26 for c in enum):
            raise ValidationError("enum needs 1 to 16 choices of at most 25 characters each (a CA limit)")
    dtype, count = infer_dtype(value, enum)
    if precision is not None and (not isinstance(precision, int) or not 0 <= precision <= 17):
        raise ValidationError(f"precision must be an int 0..17, not {precision!r}")
    meta = Metadata(
        dtype=dtype, count=count, units=units or "", precision=precision,
        control_limits=_pair("limits", limits), alarm_limits=_pair("alarm_limits", alarm_limits),
        warning_limits=_pair("warning_limits", warning_limits), choices=enum,
        description=doc or "", access="rw" if writable else "r",
    )
    pv = SoftPV(addr.name, value, meta)  # checks the initial value against the limits
    s.ca_server()
    s.store.add(pv)
    handle = HostedPV(pv, s.store)
    s.handles[pv.name] = handle
    return handle


def unhost(name: str) -> None:
    """Stop serving a hosted PV."""
    s = session()
    handle = s.handles.pop(parse_address(name, "ca").name, None)
    if handle is None:
        s.store.remove(parse_address(name, "ca").name)
    else:
        handle.remove()


def hosted() -> list[str]:
    """Names of the PVs this process serves."""
    return session().store.names()


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
