"""The client verbs: ``get``, ``put``, ``info``, ``monitor``, ``status`` and device
``command``s. Each parses its address and runs one coroutine of the channel cache
on the runtime loop with a timeout."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from ..core import (
    DISPLAY_METADATA,
    Address,
    ChannelStatus,
    MotionInterrupted,
    CtlshellError,
    CommandInfo,
    Metadata,
    Reading,
    Subscription,
    ValidationError,
    parse_address,
    parse_policy,
)
from ._sessions import Session, session

log = logging.getLogger(__name__)


# -- client verbs -----------------------------------------------------------------
#: parse_address is pure; reading the same channel in a loop should not parse it each time
_parse_cached = functools.lru_cache(maxsize=4096)(parse_address)


def _address(address: Any, scheme: str) -> Any:
    """``address`` parsed (a str from the cache: the same channel is read in loops)."""
    return _parse_cached(address, scheme) if type(address) is str else parse_address(address, scheme)


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
    addr = _address(address, scheme)
    budget = timeout or s.config.timeout
    reading = _read(s, addr, budget, timeout)
    if reading.address not in DISPLAY_METADATA and reading.address not in _NO_METADATA:
        _learn_display(s, addr, budget)
    return reading


def _read(s: Session, addr: Address, budget: float, timeout: float | None) -> Reading:
    """The one read of ``get`` (on the caller's thread when the backend can)."""
    if not s.runtime.in_loop_thread() and budget > 0:
        reading = s.registry.get(addr.scheme).get_now(addr.name, budget)
        if reading is not None:  # read on this thread; the cache hears of it on the loop
            s.note(addr, reading)
            return reading
    return s.run(s.cache.get(addr, budget), timeout, f"get {addr}")


#: channels whose metadata could not be read: not asked again at every get (``info()`` still asks)
_NO_METADATA: set[str] = set()


def forget_unknown(address: str) -> None:
    """Try the display metadata of ``address`` again at its next read (hosted anew)."""
    _NO_METADATA.discard(address)


def _learn_display(s: Any, addr: Any, budget: float) -> None:
    """Fetch a channel's metadata once, so that every display of its readings shows
    units, precision and enum labels (ADR 0013); a failure leaves the reading as read."""
    if s.runtime.in_loop_thread():
        return
    try:
        s.run(s.cache.info(addr, budget), budget, f"info {addr}")
    except CtlshellError:
        if len(_NO_METADATA) < 100_000:
            _NO_METADATA.add(str(addr))  # units are a nicety: the reading itself arrived


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
    MotionInterrupted
        A KeyboardInterrupt (Ctrl-C) while waiting: what the write set moving was
        stopped first where a way to stop it is known (``api.find_stop``); the message
        says what was done.
    """
    s = session()
    addr = _address(address, s.config.default_scheme)
    budget = timeout or s.config.timeout
    try:
        if not s.runtime.in_loop_thread() and budget > 0 and \
                s.registry.get(addr.scheme).put_now(addr.name, value, wait=wait, timeout=budget):
            return  # written on this thread (the channel's field and limits were known)
        s.run(s.cache.put(addr, value, wait=wait, timeout=budget), timeout, f"put {addr}")
    except KeyboardInterrupt as exc:
        if not wait or isinstance(exc, MotionInterrupted):
            raise
        from ._stop import stop_after_interrupt

        raise MotionInterrupted(stop_after_interrupt(addr)) from None


def info(address: str, *, timeout: float | None = None) -> Metadata:
    """Units, precision, limits, choices, native type and access of a channel."""
    s = session()
    addr = parse_address(address, s.config.default_scheme)
    return s.run(s.cache.info(addr, timeout or s.config.timeout), timeout, f"info {addr}")


def monitor(address: str, callback: Callable[[Reading], object], *, policy: object = "latest",
            timeout: float | None = None) -> Subscription:
    """Call ``callback(reading)`` on every update, in order, from ctlshell's delivery threads.

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

    if str(addr) not in DISPLAY_METADATA:
        callback = _after_metadata(s, addr, callback)
    return s.run(s.cache.subscribe(addr, callback, chosen, on_close), timeout, f"monitor {addr}")


def _after_metadata(s: Any, addr: Any, callback: Callable[[Reading], object]) -> Callable[[Reading], object]:
    """``callback``, before whose first connected reading the channel's display metadata
    is fetched (on the subscription's own delivery thread, so nobody else waits; the
    channel is connected by then): ``print`` as a callback shows units and enum labels
    from its first line (ADR 0013). Nothing is fetched for a channel that never
    connects: a monitor may wait for its server."""
    fetched = [False]  # after the first connected reading: one list index per update, no lock

    def deliver(reading: Reading) -> object:
        if not fetched[0] and reading.connected:
            fetched[0] = True
            if str(addr) not in DISPLAY_METADATA and str(addr) not in _NO_METADATA and not s.runtime.closed:
                try:
                    s.run(s.cache.info(addr, s.config.timeout), None, f"info {addr}")
                except Exception:  # noqa: BLE001 (a timeout or a closed session: show the reading as it is)
                    pass
        return callback(reading)
    return deliver


def status() -> list[ChannelStatus]:
    """Every channel of the session with its state, users, updates and last update."""
    s = session()

    async def snapshot() -> list[ChannelStatus]:
        s.flush_notes()
        return s.cache.status()

    return s.run(snapshot(), None, "status")



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
