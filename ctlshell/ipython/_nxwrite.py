"""The ``%nxwrite`` line magic: NeXus recording through a writer device's Tango interface.

``%nxwrite open FILE --config XML [--device ADDR]``, ``%nxwrite entry [JSON]``,
``%nxwrite record [JSON]``, ``%nxwrite close [JSON]``, ``%nxwrite status``,
``%nxwrite monitor ADDR... [--rate R] [--duration S | --background]``, ``%nxwrite stop``.
Without ``--device`` the first ``open`` starts ``ctlshell nxwriter`` for this session
(data directory: ``--data-dir`` or the current one; a later ``open`` for
another directory replaces that writer once it is idle). JSON is taken as typed (never
expanded or evaluated); a bare ``{"x": 1}`` means the values themselves, and a bare
name (``%nxwrite record point``) takes the dict ``point`` of the user's namespace.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, construct_parser, magic_arguments

from ..core import CtlshellError, ValidationError

__all__ = ["NXWriteMagics"]


def _parser(name: str) -> Any:
    def wrap(fn: Any) -> Any:
        fn = magic_arguments(name=f"nxwrite {name}")(fn)
        construct_parser(fn)
        return fn
    return wrap


@_parser("open")
@argument("file", metavar="FILE", help="the NeXus file, relative to the writer's data directory")
@argument("--config", required=True, metavar="XML", help="file with the NXSDataWriter XML configuration")
@argument("--device", metavar="ADDR", help="an existing writer (NexusWriter or NXSDataWriter) to use")
@argument("--data-dir", metavar="DIR", help="data directory of the writer started here (default: .)")
def _open(line: str) -> None:
    """Open FILE with the configuration XML (checked first: bad XML creates no file)."""


@_parser("monitor")
@argument("addresses", nargs="+", metavar="ADDR")
@argument("--rate", type=float, default=10.0, help="steps per second at most (default 10)")
@argument("--duration", type=float, metavar="S", help="stop after S seconds (default: Ctrl-C)")
@argument("--background", action="store_true", help="keep recording; %%nxwrite stop ends it")
def _monitor(line: str) -> None:
    """Record a step on every update of the channels (newest values, rate-capped)."""


USAGE = """%nxwrite VERB ...: NeXus recording through a writer device (Tango interface).
  %nxwrite open FILE --config XML [--device ADDR] [--data-dir DIR]
  %nxwrite entry [JSON]       global values (e.g. {"title": "scan 1"}), then OpenEntry (INIT)
  %nxwrite record [JSON]      one step; JSON {"name": value, ...} or {"data": {...}, "triggers": [...]},
                              or the name of a dict variable (%nxwrite record point)
  %nxwrite close [JSON]       FINAL values, CloseEntry, CloseFile
  %nxwrite status             state, status line, file
  %nxwrite monitor ADDR... [--rate R] [--duration S | --background]    record on every update
  %nxwrite stop               stop background monitors"""


@magics_class
class NXWriteMagics(Magics):
    """``%nxwrite``; owns the session's writer client, writer process and monitors."""

    shell: Any  # IPython declares it optional; a registered magic always has its shell

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.client: Any = None
        self.process: Any = None
        self.monitors: list[Any] = []

    @no_var_expand
    @line_magic
    def nxwrite(self, line: str) -> Any:
        verb, _, rest = line.strip().partition(" ")
        if verb in ("", "-h", "--help", "?"):
            print(USAGE)
            return None
        handler = getattr(self, f"_v_{verb}", None)
        if handler is None:
            raise UsageError(f"unknown verb {verb!r} for %nxwrite; verbs: open, entry, record, close, status, "
                             "monitor, stop")
        if rest.split()[:1] in (["-h"], ["--help"]) or rest.strip() in ("?", "??"):
            parser = {"open": _open, "monitor": _monitor}.get(verb)
            print(parser.parser.format_help() if parser else
                  "\n".join(line for line in USAGE.splitlines() if f"%nxwrite {verb}" in line))
            return None
        try:
            return handler(rest.strip())
        except KeyboardInterrupt:
            print(f"%nxwrite {verb}: interrupted", file=sys.stderr)
            return None

    nxwrite.__doc__ = USAGE

    def _parse(self, fn: Any, verb: str, rest: str) -> Any:
        try:
            return fn.parser.parse_argstring(rest)
        except (UsageError, ValueError) as exc:
            raise UsageError(f"%nxwrite {verb}: {exc}") from None

    def _need(self) -> Any:
        if self.client is None:
            raise CtlshellError("no writer yet: %nxwrite open FILE --config XML first")
        return self.client

    def _v_open(self, rest: str) -> Any:
        args = self._parse(_open, "open", rest)
        try:
            with open(args.config, encoding="utf-8") as f:
                xml = f.read()
        except OSError as exc:
            raise ValidationError(f"cannot read the configuration {args.config!r}: {exc.strerror or exc}") from None
        from ..nexus import WriterClient, WriterProcess

        data_dir = os.path.realpath(args.data_dir or os.getcwd())
        if args.device:
            self.client = WriterClient(args.device)
        elif self.process is None or self.process.data_dir != data_dir:
            if self.process is not None:  # a writer of another data directory: replace it when idle
                if self.client.status().state != "ON":
                    raise CtlshellError(f"the writer of {self.process.data_dir} still has a file open: "
                                        "%nxwrite close first")
                self.process.stop()
            self.process = WriterProcess(data_dir).start()
            self.client = WriterClient(self.process.address)
        elif self.client is None or self.client.device != self.process.address:
            self.client = WriterClient(self.process.address)
        return self.client.open(args.file, xml)

    def _values(self, rest: str) -> Any:
        """JSON text as typed, or the name of a dict (or JSON string) in the user's namespace."""
        if rest.isidentifier():
            if rest not in self.shell.user_ns:
                raise ValidationError(f"{rest!r} is neither JSON nor a variable of this session")
            return self.shell.user_ns[rest]
        return rest or None

    def _v_entry(self, rest: str) -> Any:
        return self._need().entry(self._values(rest))

    def _v_record(self, rest: str) -> None:
        self._need().record(self._values(rest))

    def _v_close(self, rest: str) -> Any:
        return self._need().close(self._values(rest))

    def _v_status(self, rest: str) -> Any:
        return self._need().status()

    def _v_monitor(self, rest: str) -> Any:
        args = self._parse(_monitor, "monitor", rest)
        from ..nexus import RecordMonitor

        mon = RecordMonitor(self._need().device, args.addresses, rate=args.rate)
        if args.background:
            self.monitors.append(mon)
            return mon
        try:
            deadline = None if args.duration is None else time.monotonic() + args.duration
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.05 if deadline is None else max(0.0, min(0.05, deadline - time.monotonic())))
        except KeyboardInterrupt:
            print("%nxwrite monitor: stopped", file=sys.stderr)
        finally:
            mon.stop()
        return mon

    def _v_stop(self, rest: str) -> int:
        stopped = 0
        for mon in self.monitors:
            mon.stop()
            stopped += 1
        self.monitors.clear()
        return stopped

    def shutdown(self) -> None:
        """Stop monitors and the writer process this session started (its file is closed)."""
        self._v_stop("")
        if self.process is not None:
            self.process.stop()
            self.process = None
        self.client = None
