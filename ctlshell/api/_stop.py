"""Stopping what a write set moving: how an address is stopped, ``stop(address)``, and
the stop that ``put(..., wait=True)`` makes when it is interrupted (ADR 0015).

The stop of an address, first found wins:

1. one configured with :func:`set_stop` (an address written 1, a command, a callable);
2. an EPICS motor record, and ctlshell's motor devices, which follow it: ``NAME.STOP``;
3. a device whose setpoint is ``PREFIX:VAL`` (or ``PREFIX.VAL``): ``PREFIX:STOP``;
4. a Tango device: its ``Stop`` command, else ``Abort``.

Found by looking the candidates up (metadata only: nothing is written), each with a
short timeout; the answer is cached per address for the session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core import Address, CtlshellError, NotFoundError, ValidationError, parse_address
from ._sessions import session

__all__ = ["Stopper", "find_stop", "set_stop", "stop"]

#: Seconds to wait for each candidate of a stop while looking one up.
LOOKUP_TIMEOUT = 1.0
_configured: dict[str, Stopper] = {}
_found: dict[str, Stopper | None] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Stopper:
    """How one address is stopped: ``kind`` "write" (``target`` <- 1), "command" or "call"."""

    address: str
    kind: str
    target: Any

    def __call__(self, timeout: float = 2.0) -> None:
        from ._client import command, put

        if self.kind == "write":
            put(self.target, 1, timeout=timeout)
        elif self.kind == "command":
            command(self.target)(timeout=timeout)
        else:
            self.target()

    def __str__(self) -> str:
        if self.kind == "write":
            return f"{self.target} <- 1"
        if self.kind == "command":
            return f"{str(self.target).partition('#')[0]}()"
        return f"{getattr(self.target, '__name__', 'a callable')}()"


def set_stop(address: str, stop: str | Callable[[], object] | None) -> None:
    """Say how ``address`` is stopped: an address to write 1 to (``"BL:M1:ABORT"``), a
    command (``"tango://bl/m/1->Halt"``), a callable, or None to forget it.

    Raises
    ------
    AddressError, ValidationError
    """
    key = _key(address)
    with _lock:
        _found.pop(key, None)
        if stop is None:
            _configured.pop(key, None)
            return
        if isinstance(stop, str):
            target = parse_address(stop, session().config.default_scheme)
            kind = "command" if "->" in target.name else "write"
            _configured[key] = Stopper(key, kind, str(target))
        elif callable(stop):
            _configured[key] = Stopper(key, "call", stop)
        else:
            raise ValidationError(f"a stop is an address, a command or a callable, not {type(stop).__name__}")


def _key(address: str) -> str:
    return str(parse_address(address, session().config.default_scheme))


def _candidates(addr: Address) -> list[tuple[str, str]]:
    name = addr.name
    if addr.scheme == "tango":  # [host:port/]domain/family/member/attribute[#dbase=no]
        base, _, fragment = name.partition("#")
        device = base.split("->")[0] if "->" in base else base.rsplit("/", 1)[0]
        suffix = f"#{fragment}" if fragment else ""
        return [("command", f"tango://{device}->{cmd}{suffix}") for cmd in ("Stop", "Abort")]
    out = [("write", f"{addr.scheme}://{name}.STOP")] if "." not in name.rsplit(":", 1)[-1] else []
    for sep in (":", "."):
        if name.endswith(sep + "VAL"):
            out.append(("write", f"{addr.scheme}://{name[:-3]}STOP"))
    return out


def _exists(kind: str, target: str) -> bool:
    from ._client import command, info

    try:
        if kind == "command":
            command(target).info(timeout=LOOKUP_TIMEOUT)
        else:
            return info(target, timeout=LOOKUP_TIMEOUT).writable
    except CtlshellError:
        return False
    return True


def find_stop(address: str) -> Stopper | None:
    """How ``address`` is stopped (see the module doc), or None when no way is known."""
    key = _key(address)
    with _lock:
        if key in _configured:
            return _configured[key]
        if key in _found:
            return _found[key]
    found = None
    for kind, target in _candidates(parse_address(key, "ca")):
        if _exists(kind, target):
            found = Stopper(key, kind, target)
            break
    with _lock:
        _found[key] = found
    return found


def stop(address: str, *, timeout: float | None = None) -> Stopper:
    """Stop the motion at ``address`` now (``%pv stop ADDR``).

    Returns
    -------
    Stopper
        What was done (``str()`` says it).

    Raises
    ------
    NotFoundError
        No way to stop it is known (say one with :func:`set_stop`).
    """
    stopper = find_stop(address)
    if stopper is None:
        raise NotFoundError(f"no stop is known for {_key(address)} (no .STOP, no :STOP, no Stop command); "
                            "ctlshell.api.set_stop(address, stop) says how")
    stopper(timeout or 2.0)
    return stopper


def stop_after_interrupt(address: Any) -> str:
    """Stop what an interrupted ``put(wait=True)`` set moving; one sentence on what was done."""
    try:
        stopper = find_stop(str(address))
        if stopper is None:
            return (f"{address}: interrupted; no stop is known for it, so the write was sent and may still "
                    "be acting (ctlshell.api.set_stop says how to stop it)")
        stopper()
    except CtlshellError as exc:
        return f"{address}: interrupted; stopping it failed: {exc}"
    return f"{address}: interrupted and stopped ({stopper})"
