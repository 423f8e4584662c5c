"""Scan magics in bluesky's argument order: ``%mov``, ``%movr``, ``%wa``, ``%ct``,
``%scan``, ``%rel_scan``, ``%count``.

Each parses its line (no ``eval`` of the line: a value is a number or a name of the
user's namespace with attributes and constant subscripts, such as
``peaks.cen["DEMO:DET:COUNTS"]``), makes devices from addresses and runs one plan on
the session's RunEngine. Ctrl-C pauses the run and stops what moves, as bluesky
does: ``RE.resume()``, ``RE.stop()`` or ``RE.abort()`` then. ``ctlshell.scans`` (and
with it bluesky) is imported on first use only.
"""

from __future__ import annotations

import ast
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

__all__ = ["ScanMagics", "resolve_value"]


def resolve_value(token: str, namespace: dict[str, Any]) -> Any:
    """A number, or ``name[.attr]["key"]...`` looked up in ``namespace``; nothing else.

    Raises
    ------
    UsageError
        Anything else (calls, operators, unknown names): the token is not evaluated.
    """
    try:
        return float(token)
    except ValueError:
        pass
    try:
        node = ast.parse(token, mode="eval").body
    except SyntaxError:
        raise UsageError(f"not a number or a name: {token!r}") from None

    def walk(n: ast.AST) -> Any:
        if isinstance(n, ast.Name):
            if n.id not in namespace:
                raise UsageError(f"{n.id!r} is not defined (a value must be a number or a name)")
            return namespace[n.id]
        if isinstance(n, ast.Attribute) and not n.attr.startswith("_"):
            return getattr(walk(n.value), n.attr)
        if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant):
            return walk(n.value)[n.slice.value]
        raise UsageError(f"{token!r}: only numbers and names (with .attr and [\"key\"]) are accepted here")

    try:
        value = walk(node)
    except (KeyError, AttributeError, IndexError, TypeError) as exc:
        raise UsageError(f"{token}: {exc}") from None
    if isinstance(value, (tuple, list)) and len(value) == 2:  # peaks.max[...] is (position, value)
        value = value[0]
    return float(value)


def _detectors(text: str) -> list[str]:
    return [d for d in text.split(",") if d]


def _interruptible(fn: Any) -> Any:
    """A Ctrl-C before the run started (devices being made, bluesky being imported)
    prints one line in the terminal; in a notebook it stops the cells queued after."""
    import functools

    @functools.wraps(fn)
    def wrapper(self: Any, line: str) -> Any:
        try:
            return fn(self, line)
        except KeyboardInterrupt:
            if getattr(self.shell, "kernel", None) is not None:
                raise
            print(f"%{fn.__name__}: interrupted before anything moved", file=sys.stderr)
            return None

    return wrapper


@magics_class
class ScanMagics(Magics):
    """The scan magics of one shell."""

    shell: Any  # IPython declares it optional; a registered magic always has its shell

    def _run(self, plan: Any) -> Any:
        from bluesky.utils import RunEngineInterrupted

        from ..scans import run_engine

        RE = run_engine()
        try:
            return RE(plan)
        except RunEngineInterrupted:
            print("run paused and motion stopped: RE.resume(), RE.stop() (end, keep data) or RE.abort()",
                  file=sys.stderr)
            self.shell.user_ns.setdefault("RE", RE)
            return None

    def _pairs(self, line: str, usage: str) -> list[Any]:
        from ..scans import motor

        words = line.split()
        if not words or len(words) % 2:
            raise UsageError(usage)
        args: list[Any] = []
        for name, token in zip(words[::2], words[1::2]):
            args += [motor(name), resolve_value(token, self.shell.user_ns)]
        return args

    @line_magic
    @_interruptible
    def mov(self, line: str) -> Any:
        """%mov MOTOR POSITION [MOTOR POSITION ...]: move (together), return when done."""
        from bluesky.plan_stubs import mv

        args = self._pairs(line, "usage: %mov MOTOR POSITION [MOTOR POSITION ...]")
        self._run(mv(*args))
        return self._positions(args[::2])

    @line_magic
    @_interruptible
    def movr(self, line: str) -> Any:
        """%movr MOTOR DELTA [MOTOR DELTA ...]: move by DELTA, return when done."""
        from bluesky.plan_stubs import mvr

        args = self._pairs(line, "usage: %movr MOTOR DELTA [MOTOR DELTA ...]")
        self._run(mvr(*args))
        return self._positions(args[::2])

    @staticmethod
    def _positions(motors: list[Any]) -> None:
        from .. import api

        for m in motors:
            reading = api.get(m.readback_address)
            print(f"{m.name}: {reading.value}")

    @line_magic
    @_interruptible
    def wa(self, line: str) -> None:
        """%wa [PATTERN]: where all motors made this session are (readback and setpoint)."""
        import fnmatch

        from .. import api
        from ..scans import AddressMotor
        from ..scans._devices import _devices

        motors = sorted({m.name: m for m in _devices.values() if isinstance(m, AddressMotor)}.values(),
                        key=lambda m: m.name)
        pattern = line.strip() or "*"
        shown = [m for m in motors if fnmatch.fnmatchcase(m.name, pattern)]
        if not shown:
            print("no motors yet (a scan, %mov or ctlshell.scans.motor(ADDR) makes them)")
            return
        width = max(len(m.name) for m in shown)
        print(f"{'motor':<{width}}  {'readback':>12}  {'setpoint':>12}")
        from ..core import CtlshellError

        for m in shown:
            try:
                rbv, sp = api.get(m.readback_address, timeout=1.0).value, api.get(m.setpoint_address, timeout=1.0).value
            except CtlshellError as exc:
                print(f"{m.name:<{width}}  not answering ({type(exc).__name__})")
                continue
            print(f"{m.name:<{width}}  {rbv:>12.4g}  {sp:>12.4g}")

    @line_magic
    @_interruptible
    def ct(self, line: str) -> Any:
        """%ct DET[,DET ...]: count the detectors once (a live table row)."""
        from ..scans import count

        if not line.strip():
            raise UsageError("usage: %ct DET[,DET ...]")
        return self._run(count(_detectors(line.strip())))

    @line_magic
    @_interruptible
    def count(self, line: str) -> Any:
        """%count DET[,DET ...] [NUM [DELAY]]: count NUM times (default 1)."""
        from ..scans import count

        words = line.split()
        if not words or len(words) > 3:
            raise UsageError("usage: %count DET[,DET ...] [NUM [DELAY]]")
        num = int(words[1]) if len(words) > 1 else 1
        delay = float(words[2]) if len(words) > 2 else None
        return self._run(count(_detectors(words[0]), num=num, delay=delay))

    def _scan_args(self, line: str, usage: str) -> tuple[list[str], list[Any]]:
        words = line.split()
        if len(words) < 5:
            raise UsageError(usage)
        args: list[Any] = []
        for token in words[1:]:
            try:
                number = float(token)
            except ValueError:
                args.append(token)  # a motor's address
                continue
            args.append(int(number) if number.is_integer() and token.lstrip("-").isdigit() else number)
        if not isinstance(args[-1], int) or (len(args) - 1) % 3:
            raise UsageError(usage)
        return _detectors(words[0]), args

    @line_magic
    @_interruptible
    def scan(self, line: str) -> Any:
        """%scan DET[,DET ...] MOTOR START STOP [MOTOR START STOP ...] NUM: bluesky's scan."""
        from ..scans import scan

        dets, args = self._scan_args(line, "usage: %scan DET[,DET ...] MOTOR START STOP [MOTOR START STOP ...] NUM")
        return self._run(scan(dets, *args))

    @line_magic
    @_interruptible
    def rel_scan(self, line: str) -> Any:
        """%rel_scan DET[,DET ...] MOTOR START STOP [...] NUM: a scan relative to where the motors are."""
        from ..scans import rel_scan

        dets, args = self._scan_args(line, "usage: %rel_scan DET[,DET ...] MOTOR START STOP [...] NUM")
        return self._run(rel_scan(dets, *args))
