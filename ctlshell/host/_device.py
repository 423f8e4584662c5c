"""The device module: hardware code on its own thread, talking to the server through
two queues.

- The **push queue** (device -> server): ``device.push(readback=1.2)`` never blocks;
  a server-side thread drains it into the PVs, whose servers notify subscribers at
  once. What the drain finds queued for one PV at once is coalesced to the newest
  value (counted in ``push_coalesced``), as the CA server would send only that. The
  queue is bounded: when the device outruns the server the oldest queued values are
  dropped and counted (``push_dropped``); every PV still ends on its newest value.
- The **pull queue** (server -> device): a client write to a writable device PV
  becomes a :class:`WriteRequest` the device takes with ``device.pull()`` when it
  can, and finishes with ``request.done()`` (or ``request.fail(why)``). The client's
  put-with-callback completes only then. A PV declared ``direct=True`` instead calls
  the device's ``write_<attr>(value)`` method on a worker thread.

The device never touches asyncio: the queues and requests do that for it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..core import HANDLED, LOCK_KEY, Client, PutRefusedError, PVStore, SoftPV, ValidationError
from ._buffer import CircularBuffer
from ._spec import PVSpec
from ._workers import Busy, Workers

__all__ = ["Device", "DevicePV", "WriteRequest"]

log = logging.getLogger(__name__)


class DevicePV(PVSpec):
    """Declares a PV of a :class:`Device` (a class attribute).

    Parameters as for ``ctlshell.host``, plus ``name`` (the PV suffix; the attribute
    name by default) and ``direct`` (client writes call ``write_<attr>`` instead of
    going through the pull queue).
    """

    name: str | None  # set in __init__ (PVSpec is a frozen dataclass; these are not its fields)
    direct: bool

    def __init__(self, value: Any, *, name: str | None = None, direct: bool = False, **kwargs: Any) -> None:
        super().__init__(value, **kwargs)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "direct", direct)


class WriteRequest:
    """A client's write waiting for the device (from :meth:`Device.pull`).

    Attributes
    ----------
    attr : str
        The device attribute written.
    value : Any
        The value, already checked against the PV's type and limits.
    client : Client
        Who wrote it.
    """

    def __init__(self, attr: str, value: Any, client: Client, loop: asyncio.AbstractEventLoop,
                 after_pushes: Callable[[Callable[[], None]], bool] | None = None) -> None:
        self.attr, self.value, self.client = attr, value, client
        self.received = time.time()
        self._loop = loop
        self._future: asyncio.Future[Any] = loop.create_future()
        self._answered = False
        #: the device's: runs the answer once what it pushed before is stored (False: not running)
        self._after_pushes = after_pushes

    def done(self, value: Any = None) -> None:
        """The device has acted: store the written value (or ``value`` instead)."""
        self._answer(value, None)

    def keep(self) -> None:
        """The device has acted and pushed what to show itself: store nothing more."""
        self._answer(HANDLED, None)

    def fail(self, reason: str) -> None:
        """Refuse the write: the client gets ``reason``; nothing changes."""
        self._answer(None, PutRefusedError(f"{self.attr}: {reason}"))

    def _answer(self, value: Any, error: BaseException | None) -> None:
        if self._answered:
            return
        self._answered = True

        def settle() -> None:
            if self._future.done():
                return  # the client gave up (timeout) already
            if error is None:
                self._future.set_result(value)
            else:
                self._future.set_exception(error)

        def send() -> None:
            try:
                self._loop.call_soon_threadsafe(settle)
            except RuntimeError:
                pass  # the loop is closed: the session ended

        # the answer goes out after the values the device pushed before it (a motor's
        # last readback before its move's end), never ahead of them
        if self._after_pushes is None or not self._after_pushes(send):
            send()

    def __repr__(self) -> str:
        return f"<WriteRequest {self.attr} = {self.value!r} from {self.client}>"


class Device:
    """The base for device code; subclass, declare ``DevicePV`` attributes, override
    :meth:`acquire` (called every ``period`` seconds) and :meth:`handle`, or :meth:`run`.

    Parameters
    ----------
    prefix : str
        Prepended to each PV name.

    Attributes
    ----------
    buffer : CircularBuffer
        ``buffer_size`` newest acquisitions, for the device's own use.
    stopping : threading.Event
        Set when the device should end its thread.
    push_dropped : int
        Values dropped because the push queue was full.
    """

    period: float = 0.1
    #: PV suffix per attribute, overriding the declarations (a subclass renaming PVs)
    pv_names: dict[str, str] = {}
    buffer_size: int = 1000
    push_queue_size: int = 10_000
    #: Queued values above which ``push`` lets other threads run (it still never blocks).
    push_yield_at: int = 1_000
    pull_queue_size: int = 100
    write_timeout: float = 30.0
    #: Serve a ``prefix + "lockedBy"`` PV: while a client holds it, writes from every
    #: other client are refused (see :meth:`ctlshell.core.PVStore.add_lock`).
    LOCKABLE: bool = False

    def __init__(self, prefix: str = "") -> None:
        self.prefix = str(prefix)
        self.specs: dict[str, DevicePV] = {
            attr: spec for cls in reversed(type(self).__mro__) for attr, spec in vars(cls).items()
            if isinstance(spec, DevicePV)}
        if not self.specs:
            raise ValidationError(f"{type(self).__name__} declares no DevicePV attributes")
        self.buffer = CircularBuffer(self.buffer_size)
        self.stopping = threading.Event()
        self.push_dropped = 0
        self.push_coalesced = 0
        self.pushed = 0
        self._pvs: dict[str, SoftPV] = {}
        self._push: collections.deque[tuple[str, Any, float | None]] = collections.deque(
            maxlen=self.push_queue_size)
        self._push_ready = threading.Event()
        #: answers to writes, sent by the push thread once the pushes before them are stored
        self._answers: list[Callable[[], None]] = []
        self._answers_lock = threading.Lock()
        self._pull: queue.Queue[WriteRequest] = queue.Queue(self.pull_queue_size)
        self._threads: list[threading.Thread] = []
        self._workers: Workers | None = None
        self._store: PVStore | None = None

    # -- the device side (its own thread) ----------------------------------------------
    def push(self, timestamp: float | None = None, **values: Any) -> None:
        """Queue new values for the PVs, by attribute name; never blocks.

        Raises
        ------
        KeyError
            An attribute the device does not declare.
        """
        for attr in values:
            if attr not in self.specs:
                raise KeyError(f"{type(self).__name__} has no PV attribute {attr!r}: {sorted(self.specs)}")
        q = self._push
        for attr, value in values.items():
            if len(q) == q.maxlen:
                self.push_dropped += 1
            q.append((attr, value, timestamp))
        self.pushed += len(values)
        if not self._push_ready.is_set():
            self._push_ready.set()
        if len(q) >= self.push_yield_at:
            # a device outrunning the server would otherwise hold the GIL for the whole
            # switch interval (5 ms) and starve the loop that sends the updates
            time.sleep(0)

    def pull(self, timeout: float = 0.0) -> WriteRequest | None:
        """The next client write waiting, or None after ``timeout`` seconds."""
        try:
            return self._pull.get(timeout=timeout) if timeout > 0 else self._pull.get_nowait()
        except queue.Empty:
            return None

    def requests(self) -> Iterator[WriteRequest]:
        """Every client write waiting now."""
        while (request := self.pull()) is not None:
            yield request

    def get(self, attr: str) -> Any:
        """The current value of one of the device's PVs."""
        return self._pvs[attr].read().value

    def acquire(self) -> None:
        """One acquisition step; called every ``period`` seconds by :meth:`run`."""

    def handle(self, request: WriteRequest) -> None:
        """Act on a client write; the default accepts it at once."""
        request.done()

    def run(self) -> None:
        """The device thread: handle waiting writes, acquire, every ``period`` seconds,
        on a fixed grid (no drift)."""
        start, n = time.monotonic(), 0
        while not self.stopping.is_set():
            for request in self.requests():
                try:
                    self.handle(request)
                except Exception as exc:
                    log.exception("%s: handling %r failed", type(self).__name__, request)
                    request.fail(f"{type(exc).__name__}: {exc}")
            try:
                self.acquire()
            except Exception:
                log.exception("%s.acquire failed", type(self).__name__)
            n += 1
            delay = start + n * self.period - time.monotonic()
            if delay < 0:
                start, n = time.monotonic(), 0
            else:
                self.stopping.wait(delay)

    # -- the server side -----------------------------------------------------------------
    def pv_name(self, attr: str) -> str:
        return self.prefix + (self.pv_names.get(attr) or getattr(self.specs[attr], "name", None) or attr)

    def start(self, store: PVStore) -> None:
        """Serve the device's PVs in ``store`` and start its threads.

        Raises
        ------
        ValidationError
            A PV name is already hosted, or a declaration is invalid (nothing added).
        """
        if self._store is not None:
            raise ValidationError(f"{type(self).__name__} is already started")
        pvs = {attr: spec.build(self.pv_name(attr)) for attr, spec in self.specs.items()}
        taken = [pv.name for pv in pvs.values() if pv.name in store]
        if self.LOCKABLE and self.prefix + LOCK_KEY in store:
            taken.append(self.prefix + LOCK_KEY)
        if taken:
            raise ValidationError(f"already hosted here: {', '.join(taken)}")
        for attr, spec in self.specs.items():
            if spec.direct and not callable(getattr(self, f"write_{attr}", None)):
                raise ValidationError(f"{attr} is declared direct=True but {type(self).__name__} "
                                      f"has no write_{attr}(value) method")
        self._pvs, self._store = pvs, store
        self._workers = Workers(2, f"ctlshell-{type(self).__name__}-direct")
        for attr, pv in pvs.items():
            if pv.metadata.writable:
                pv.set_write_handler(self._handler(attr))
            store.add(pv)
        if self.LOCKABLE:
            store.add_lock(self.prefix)
        self.stopping.clear()
        name = type(self).__name__
        for target, label in ((self._drain, "push"), (self._run_guarded, "device")):
            thread = threading.Thread(target=target, name=f"ctlshell-{name}-{label}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run_guarded(self) -> None:
        try:
            self.run()
        except Exception:
            log.exception("%s.run ended with an error", type(self).__name__)

    def _after_pushes(self, send: Callable[[], None]) -> bool:
        """Queue ``send`` behind every value pushed so far (False: the push thread is not running)."""
        with self._answers_lock:
            if self.stopping.is_set() or not self._threads:
                return False
            self._answers.append(send)
        self._push_ready.set()
        return True

    def _take_answers(self) -> list[Callable[[], None]]:
        with self._answers_lock:
            answers, self._answers = self._answers, []
        return answers

    def _drain(self) -> None:
        q, ready = self._push, self._push_ready
        try:
            while not self.stopping.is_set():
                ready.wait(0.5)
                ready.clear()
                self._drain_once(q)
        finally:
            with self._answers_lock:
                answers, self._answers = self._answers, []
                self.stopping.set()  # no answer queued after this one is left
            for send in answers:
                send()

    def _drain_once(self, q: collections.deque[tuple[str, Any, float | None]]) -> None:
        while True:
            answers = self._take_answers()  # answered before the batch below was taken
            if q:
                newest: dict[str, tuple[Any, float | None]] = {}
                taken = 0
                for _ in range(len(q)):  # one batch; newest value per PV
                    try:
                        attr, value, stamp = q.popleft()
                    except IndexError:
                        break
                    newest[attr] = (value, stamp)
                    taken += 1
                self.push_coalesced += taken - len(newest)
                for attr, (value, stamp) in newest.items():
                    try:
                        self._pvs[attr].write(value, origin=self, timestamp=stamp)
                    except Exception as exc:
                        log.warning("%s: pushed %s = %r refused: %s", type(self).__name__, attr, value, exc)
            for send in answers:
                send()
            if not q and not answers:
                return

    def _handler(self, attr: str) -> Any:
        spec = self.specs[attr]

        async def direct(value: Any, client: Client) -> Any:
            assert self._workers is not None  # set before any handler
            try:
                return await self._workers.run(getattr(self, f"write_{attr}"), value)
            except Busy as exc:
                raise PutRefusedError(f"{self._pvs[attr].name}: not written, {exc}") from None

        async def queued(value: Any, client: Client) -> Any:
            request = WriteRequest(attr, value, client, asyncio.get_running_loop(), self._after_pushes)
            try:
                self._pull.put_nowait(request)
            except queue.Full:
                raise PutRefusedError(f"{self.pv_name(attr)}: the device is busy "
                                      f"({self.pull_queue_size} writes waiting)") from None
            try:
                return await asyncio.wait_for(request._future, self.write_timeout)
            except asyncio.TimeoutError:
                raise PutRefusedError(f"{self.pv_name(attr)}: the device did not answer "
                                      f"within {self.write_timeout} s") from None

        return direct if spec.direct else queued

    def stop(self, wait: float = 2.0) -> None:
        """Stop the threads and the PVs. Idempotent."""
        if self._store is None:
            return
        self.stopping.set()
        self._push_ready.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(wait)
        self._threads.clear()
        for request in self.requests():
            request.fail("the device stopped")
        for pv in self._pvs.values():
            pv.set_write_handler(None)
            if pv.name in self._store:
                self._store.remove(pv.name)
        if self.LOCKABLE:
            self._store.remove_lock(self.prefix)
        if self._workers is not None:
            self._workers.shutdown()
        self._store = None

    @property
    def names(self) -> list[str]:
        return [self.pv_name(attr) for attr in self.specs]

    def __repr__(self) -> str:
        state = "running" if self._store is not None else "stopped"
        return f"<{type(self).__name__} prefix={self.prefix!r} pvs={len(self.specs)} {state}>"
