"""Many addresses at once: ``get_many``, ``put_many``, ``info_many``, ``monitor_many``.

Each verb parses every address first (a malformed one raises before anything is
sent), then runs all of them concurrently on the runtime loop under one timeout, as
libca's ``caget_many`` and p4p's ``Context.get([...])`` do: N dead channels cost one
timeout, not N. The result is a :class:`Results`: the outcome of each address in the
order asked, values and errors apart, so a dead channel never hides the live ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence, ValuesView
from typing import Any, Generic, TypeVar

from ..core import (
    Address,
    ChannelTimeoutError,
    CtlshellError,
    Metadata,
    Reading,
    Subscription,
    ValidationError,
    parse_address,
    parse_policy,
)
from ._sessions import Session, session

__all__ = ["Results", "close_all", "get_many", "info_many", "monitor_many", "put_many"]

T = TypeVar("T")


class _Values(dict[str, T]):
    """``Results.values``: the dict of the addresses that succeeded, and called, as
    ``Mapping.values()`` is, their results (the attribute would otherwise hide it)."""

    def __call__(self) -> ValuesView[T]:
        return self.values()


class Results(Mapping[str, T], Generic[T]):
    """The outcome of a many-address verb, per address, in the order asked.

    A mapping of the addresses that succeeded to their results; ``errors`` holds the
    others. ``results[address]`` of a failed address raises that address's error.

    Attributes
    ----------
    addresses : list of str
        Every address asked for, canonical (``ca://NAME``), in order.
    values : dict of str to result
        The addresses that succeeded (``Reading``, ``Metadata`` or ``None`` for a put).
    errors : dict of str to CtlshellError
        The addresses that failed, with the error each would have raised alone.
    """

    values: _Values[T]

    def __init__(self, addresses: Sequence[str], values: dict[str, T], errors: dict[str, CtlshellError]) -> None:
        self.addresses = list(addresses)
        self.values = _Values(values)
        self.errors = errors

    @property
    def ok(self) -> bool:
        """True when every address succeeded."""
        return not self.errors

    def __getitem__(self, address: str) -> T:
        if address in self.values:
            return self.values[address]
        if address in self.errors:
            raise self.errors[address]
        raise KeyError(address)

    def __iter__(self) -> Iterator[str]:
        return (a for a in self.addresses if a in self.values)

    def __len__(self) -> int:
        return len(self.values)

    def raise_first(self) -> None:
        """Raise the first error in address order (nothing when all succeeded)."""
        for address in self.addresses:
            if address in self.errors:
                raise self.errors[address]

    def __repr__(self) -> str:
        return f"<Results of {len(self.addresses)} addresses: {len(self.values)} ok, {len(self.errors)} failed>"


def _parse_all(addresses: Iterable[Any], s: Session) -> list[Address]:
    if isinstance(addresses, (str, bytes)):
        raise ValidationError("give a list of addresses (for one address use get/put/info)")
    scheme = s.config.default_scheme
    parsed = [parse_address(a, scheme) for a in addresses]  # AddressError before anything is sent
    if not parsed:
        raise ValidationError("no addresses given")
    return parsed


def _budget(s: Session, timeout: float | None) -> float:
    budget = s.config.timeout if timeout is None else timeout
    if not isinstance(budget, (int, float)) or isinstance(budget, bool) or not budget > 0:
        raise ValidationError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return float(budget)


def _run_all(s: Session, addrs: list[Address], one: Callable[[Address], Awaitable[Any]],
             budget: float, what: str) -> Results[Any]:
    """``one(address)`` for every address at once on the loop; every error kept per address."""

    async def everything() -> list[Any]:
        unique = list(dict.fromkeys(addrs))  # one request per channel, however often it is named
        tasks = [asyncio.ensure_future(one(a)) for a in unique]
        # one deadline for all: the backends' own timeouts usually answer first (better
        # worded); this bounds a verb that would not honour its timeout
        _, late = await asyncio.wait(tasks, timeout=budget + 0.5)
        for task in late:
            task.cancel()
        by_address: dict[Address, Any] = {}
        for addr, task in zip(unique, tasks):
            if task in late:
                by_address[addr] = ChannelTimeoutError(f"{addr}: no answer to {what} within {budget} s")
            elif task.cancelled():
                by_address[addr] = asyncio.CancelledError()
            else:
                by_address[addr] = task.exception() or task.result()
        return [by_address[a] for a in addrs]

    return _results(addrs, s.run(everything(), budget + 1.0, f"{what} of {len(addrs)} addresses"), what)


def _run_batch(s: Session, addrs: list[Address],
               batch: Callable[[list[Address]], Awaitable[Sequence[Any]]], budget: float, what: str) -> Results[Any]:
    """``batch(addresses)`` once on the loop (the cache's ``get_many``/``info_many``: one
    batch per backend), giving per address its result or error."""

    async def everything() -> list[Any]:
        unique = list(dict.fromkeys(addrs))  # one request per channel, however often it is named
        try:  # as in _run_all: bounds a backend that would not honour its timeout
            outcomes = await asyncio.wait_for(batch(unique), budget + 0.5)
        except TimeoutError:
            outcomes = [ChannelTimeoutError(f"{a}: no answer to {what} within {budget} s") for a in unique]
        by_address = dict(zip(unique, outcomes))
        return [by_address[a] for a in addrs]

    return _results(addrs, s.run(everything(), budget + 1.0, f"{what} of {len(addrs)} addresses"), what)


def _results(addrs: list[Address], outcomes: list[Any], what: str) -> Results[Any]:
    values: dict[str, Any] = {}
    errors: dict[str, CtlshellError] = {}
    for addr, outcome in zip(addrs, outcomes):
        key = str(addr)
        if isinstance(outcome, CtlshellError):
            errors[key] = outcome
        elif isinstance(outcome, BaseException):
            if isinstance(outcome, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
                raise outcome
            wrapped = CtlshellError(f"{addr}: {what} failed ({type(outcome).__name__}: {outcome})")
            wrapped.__cause__ = outcome
            errors[key] = wrapped
        else:
            values[key] = outcome
    return Results([str(a) for a in addrs], values, errors)


def get_many(addresses: Iterable[str | Address], *, timeout: float | None = None) -> Results[Reading]:
    """Read many channels at once, under one timeout.

    Parameters
    ----------
    addresses : iterable of str
        Addresses of any schemes (``ca://``, ``pva://``, ``tango://``, ``local://``,
        bare names, or parsed :class:`~ctlshell.core.Address` values), mixed freely;
        a repeated address is read once.
    timeout : float, optional
        Seconds for the whole call (session default 5 s): every channel that has
        not answered by then is reported as a ``ChannelTimeoutError``.

    Returns
    -------
    Results
        ``results[address]`` is the :class:`Reading`; ``results.errors`` the failures.

    Raises
    ------
    AddressError
        A malformed address (nothing was read).
    ValidationError
        No address, a single string instead of a list, or a bad timeout.
    """
    s = session()
    addrs = _parse_all(addresses, s)
    budget = _budget(s, timeout)
    return _run_batch(s, addrs, lambda unique: s.cache.get_many(unique, budget), budget, "get")


def info_many(addresses: Iterable[str | Address], *, timeout: float | None = None) -> Results[Metadata]:
    """Metadata of many channels at once, under one timeout (see :func:`get_many`)."""
    s = session()
    addrs = _parse_all(addresses, s)
    budget = _budget(s, timeout)
    return _run_batch(s, addrs, lambda unique: s.cache.info_many(unique, budget), budget, "info")


def put_many(values: Mapping[str, Any] | Iterable[tuple[str, Any]], *, wait: bool = False,
             timeout: float | None = None) -> Results[None]:
    """Write many channels at once, under one timeout.

    Each value is checked against its own channel (type, limits, access) as
    :func:`ctlshell.put` does; a refused value is that address's error and the
    others are still written. To check everything before the first write, call
    :func:`info_many` and :func:`ctlshell.core.coerce` first (``%pv snapshot
    restore`` does).

    Parameters
    ----------
    values : mapping or iterable of (address, value)
    wait : bool
        Each write returns only when its server has processed it.
    timeout : float, optional

    Returns
    -------
    Results
        ``None`` for every address written; ``results.errors`` the refused or dead ones.
    """
    s = session()
    pairs = list(values.items()) if isinstance(values, Mapping) else list(values)
    if not all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
        raise ValidationError("put_many takes a mapping {address: value} or (address, value) pairs")
    addrs = _parse_all([a for a, _ in pairs], s)
    if len(set(addrs)) != len(addrs):
        raise ValidationError("put_many: an address is given twice (which value should win?)")
    by_address = dict(zip(addrs, (v for _, v in pairs)))
    budget = _budget(s, timeout)
    return _run_all(s, addrs, lambda a: s.cache.put(a, by_address[a], wait=wait, timeout=budget), budget, "put")


def monitor_many(addresses: Iterable[str],
                 callback: Callable[[Reading], object] | Mapping[str, Callable[[Reading], object]], *,
                 policy: object = "latest", timeout: float | None = None) -> Results[Subscription]:
    """Subscribe to many channels at once (one trip to the loop, set-ups concurrent).

    ``callback(reading)`` is called for every update of any of them (``reading.address``
    says which), each subscription in its own order, from the delivery pool; or give
    a mapping ``{address: callback}`` (keyed by the addresses as given). What
    each subscription keeps while the callback is busy follows ``policy`` (see
    :func:`ctlshell.monitor`).

    Returns
    -------
    Results
        ``results[address]`` is that address's :class:`Subscription` (close each, or
        call ``close_all``); ``results.errors`` the addresses that could not be
        subscribed (an unknown ``local://`` name, a missing library...).
    """
    given = list(addresses) if not isinstance(addresses, (str, bytes)) else addresses
    if isinstance(callback, Mapping):
        missing = [a for a in given if a not in callback]
        if missing or not all(callable(c) for c in callback.values()):
            raise ValidationError(f"monitor_many: no callable callback for {missing[0] if missing else 'an address'}")
        callbacks = [callback[a] for a in given]
    elif callable(callback):
        callbacks = [callback] * len(given)
    else:
        raise ValidationError(f"callback must be callable, not {type(callback).__name__}")
    s = session()
    addrs = _parse_all(given, s)
    if len(set(addrs)) != len(addrs):
        raise ValidationError("monitor_many: an address is given twice")
    by_address = dict(zip(addrs, callbacks))
    chosen = parse_policy(policy)
    budget = _budget(s, timeout)

    def on_close(sub: Subscription) -> None:
        if not s.runtime.closed:
            s.runtime.submit(s.cache.unsubscribe(sub))

    return _run_all(s, addrs, lambda a: s.cache.subscribe(a, by_address[a], chosen, on_close), budget, "monitor")


def close_all(results: Results[Subscription]) -> None:
    """Close every subscription of a :func:`monitor_many`."""
    for sub in results.values.values():
        sub.close(timeout=0.5)
