"""The session: runtime, store, channel cache, servers and hosted objects of this
process, created on first use and closed at exit; ``configure`` and ``shutdown``."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..backends import DEFAULT_BACKENDS
from ..backends.local import LocalBackend
from ..core import (
    Address,
    BackendRegistry,
    ChannelCache,
    Config,
    PVStore,
    Reading,
    Runtime,
    ValidationError,
    delivery_pool,
    stop_pool,
)
from ..gateway import Gateway
from ..host import Daemon, Device, HostedPV, StateFile

log = logging.getLogger(__name__)
T = TypeVar("T")


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
        self.registry = BackendRegistry(entries, on_load=self._backend_loaded)
        self.cache = ChannelCache(self.registry)
        self.handles: dict[str, HostedPV] = {}
        #: hosted devices, daemons and caproto groups, in the order they started
        self.objects: list[Any] = []
        self.state = StateFile(self.config.state_file or ":memory:")
        self.store.add_write_hook(self.state.record)
        # a name hosted anew (or removed) may come back with other units, precision or
        # choices: what this process showed of it is forgotten before host() returns
        self.store.watch(self._forget_display, self._forget_display)
        self._ca_server: Any = None
        self._pva_server: Any = None
        #: servers being started: the first caller starts, the others wait on the future
        self._starting: dict[str, concurrent.futures.Future[Any]] = {}
        self.gateways: list[Gateway] = []
        self._sweeper: concurrent.futures.Future[None] | None = None
        self._sweeper_claimed = False
        # held only for a few dict operations, never across a wait on the loop: the loop
        # itself takes it (flush_notes from the sweeper and status()), so a thread holding
        # it while waiting for the loop would stall both (issue 18)
        self._lock = threading.Lock()
        self._notes: dict[Any, Reading] = {}
        self._renewing: set[asyncio.Future[Any]] = set()
        # the CA client and the hosted CA server's anchor, whichever comes first waits
        # for the other (under _lock): the client holds the anchor open (ADR 0028)
        self._ca_client: Any = None
        self._ca_anchor: str | None = None
        self.runtime.on_shutdown(self._close)
        delivery_pool().start()  # its threads live as long as the session, like the runtime's

    # -- plumbing --------------------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None, what: str) -> T:
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
        if self._sweeper is None:
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
        if self._sweeper is not None:
            return
        with self._lock:
            first = self._sweeper is None and not self._sweeper_claimed
            self._sweeper_claimed = True
        if first:  # submitted outside the lock (starting the loop waits for its thread)
            self._sweeper = self.runtime.submit(self._sweep_forever())

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
        if self._ca_server is None:
            from ..host import CaServer

            server = self._start_once("CA", lambda: CaServer(self.store, self.config, self._renew_ca))
            with self._lock:
                self._ca_anchor = server.anchor
                client = self._ca_client
            if client is not None:
                client.hold(server.anchor)
            self._ca_server = server
        return self._ca_server

    def _backend_loaded(self, scheme: str, backend: Any) -> None:
        """A backend was created: the CA client holds the hosted CA server's anchor open
        (libca closes a circuit left empty, and a channel found while it closes waits 10 s)."""
        if scheme != "ca":
            return
        with self._lock:
            self._ca_client = backend
            anchor = self._ca_anchor
        if anchor is not None:
            backend.hold(anchor)

    def _forget_display(self, pv: Any) -> None:
        from ._client import forget_unknown  # the api module that learns display metadata

        for scheme in ("ca", "pva", "local"):
            address = Address(scheme, pv.name)
            self.cache.forget_metadata(address)
            forget_unknown(str(address))

    def _renew_ca(self, name: str) -> None:
        """The hosted CA server serves ``name`` (on the loop): this process's CA client
        drops a stale channel of it and reopens its monitors (ChannelCache.renew)."""
        task = asyncio.ensure_future(self.cache.renew(Address("ca", name)))
        self._renewing.add(task)  # the loop holds its tasks weakly
        task.add_done_callback(self._renewed)

    def _renewed(self, task: asyncio.Future[Any]) -> None:
        self._renewing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("renewing a CA channel failed", exc_info=task.exception())

    def pva_server(self) -> Any:
        """The hosted PVA server, started on first use (None with ``serve_pva=False``)."""
        if not self.config.serve_pva:
            return None
        if self._pva_server is None:
            from ..host import PvaServer

            self._pva_server = self._start_once("PVA", lambda: PvaServer(self.store, self.config))
        return self._pva_server

    def _start_once(self, kind: str, make: Callable[[], Any]) -> Any:
        """Start a server once, whichever threads ask at the same time, holding no lock
        while the loop starts it: the first caller starts it, the others wait on its future.
        A start that fails is forgotten, so the next call tries again."""
        with self._lock:
            pending = self._starting.get(kind)
            first = pending is None
            if first:
                pending = self._starting[kind] = concurrent.futures.Future()
        assert pending is not None
        if not first:
            return pending.result(self.config.timeout + 10)
        try:
            server = make()
            self.runtime.call(server.start(), self.config.timeout + 5, f"starting the {kind} server")
        except BaseException as exc:
            with self._lock:
                del self._starting[kind]
            pending.set_exception(exc)
            raise
        pending.set_result(server)
        return server

    def close(self) -> None:
        self.runtime.shutdown()
        stop_pool()  # the delivery threads end with the session (the next one starts them again)


_session: Session | None = None
_session_lock = threading.Lock()


#: callables :func:`shutdown` runs first, while the session still works
_before_shutdown: list[Callable[[], object]] = []
#: set by the interpreter-exit hook: no new session is started after it
_exiting = False


def session() -> Session:
    """The current session, created on first use.

    Raises
    ------
    RuntimeError
        After the interpreter began to exit and ctlshell shut down: a session
        started then could never start its threads (the call would hang).
    """
    global _session
    current = _session  # the common case, without the lock: one read of a global
    if current is not None and not current.runtime.closed:
        return current
    with _session_lock:
        if _session is None or _session.runtime.closed:
            if _exiting:
                raise RuntimeError("ctlshell has shut down: the interpreter is exiting")
            _session = Session()
        return _session


def before_shutdown(callback: Callable[[], object]) -> None:
    """Have :func:`shutdown` call ``callback()`` before it closes the session, while
    channels still answer (the scans end a paused run there, stopping what it moved).
    A callback registered twice runs once; its exceptions are logged."""
    if callback not in _before_shutdown:
        _before_shutdown.append(callback)


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
    """End what must end first (see :func:`before_shutdown`), then close every
    subscription and server and stop the runtime. Idempotent."""
    global _session
    if _session is not None:
        for callback in tuple(_before_shutdown):
            try:
                callback()
            except Exception:
                log.exception("at shutdown, %r failed", callback)
    with _session_lock:
        if _session is not None:
            _session.close()
            _session = None


def _register_exit_hook() -> None:
    """Run :func:`shutdown` when the interpreter exits, before any library's atexit
    handler: aioca's destroys libca's context (registered at its first use, so it
    would run before an atexit handler of ours), and clearing a subscription after
    that aborts the process (``epicsMutex::invalidMutex``). threading's exit hooks
    run before atexit's; where Python has none, atexit it is."""
    register = getattr(threading, "_register_atexit", None)
    if register is None:
        atexit.register(_exit)
        return
    try:
        register(_exit)
    except RuntimeError:  # imported while the interpreter is already shutting down
        atexit.register(_exit)


def _exit() -> None:
    global _exiting
    shutdown()
    _exiting = True


_register_exit_hook()
