"""The argument parsers of the ``%pv`` verbs (IPython ``magic_arguments``) and value parsing.

Pure: a verb's line goes in, an ``argparse.Namespace`` comes out, or a ``UsageError``
with argparse's one-line message. The usage text of every verb is built from these
parsers, so ``%pv?`` and ``%pv VERB?`` always match what is accepted.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, construct_parser, magic_arguments

__all__ = ["VERBS", "parse", "parse_value", "usage", "verb_help"]


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


_positive.__name__ = "positive number"


def _verb(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = magic_arguments(name=f"pv {name}")(fn)
        construct_parser(fn)
        return fn
    return wrap


@_verb("get")
@argument("addresses", nargs="+", metavar="ADDR",
          help="ca://NAME, pva://NAME, tango://..., local://NAME or a bare name")
@argument("--timeout", type=_positive, help="seconds (session default: 5)")
def get(line: str) -> None:
    """Read channels: returns the Reading (a table of Readings for several)."""


@_verb("put")
@argument("address", metavar="ADDR")
@argument("value", nargs="+", metavar="VALUE", help="a number, a string, an enum choice or a list like [1,2,3]")
@argument("--wait", action="store_true", help="return when the server has processed the write (a move has ended); "
          "Ctrl-C stops the motion")
@argument("--timeout", type=_positive)
def put(line: str) -> None:
    """Write a channel (checked against its type and limits first); returns None."""


@_verb("stop")
@argument("address", metavar="ADDR", help="a motor (its .STOP), a device setpoint (PREFIX:STOP) or a Tango device (Stop)")
def stop(line: str) -> None:
    """Stop the motion at ADDR now; says what it did (ctlshell.api.set_stop configures a stop)."""


@_verb("monitor")
@argument("addresses", nargs="+", metavar="ADDR")
@argument("--rate", type=_positive, default=10.0, help="redraws per second at most (default 10)")
@argument("--buffer", type=int, metavar="N", help="keep the last N undelivered updates (default: the newest only)")
@argument("--duration", type=_positive, metavar="S", help="stop after S seconds (default: Ctrl-C in the terminal; "
          "keep running in a notebook)")
@argument("--background", action="store_true", help="keep it running without printing; %%pv unmonitor stops it")
def monitor(line: str) -> None:
    """Watch channels: updates in place in the terminal, an updating table in a notebook;
    returns the Monitor (subscriptions, latest readings, drops)."""


@_verb("unmonitor")
@argument("addresses", nargs="*", metavar="ADDR", help="only monitors of these (default: all)")
def unmonitor(line: str) -> None:
    """Stop monitors left running; returns how many were stopped."""


@_verb("info")
@argument("address", metavar="ADDR")
@argument("--timeout", type=_positive)
def info(line: str) -> None:
    """Metadata, connection, server, subscribers and drops of a channel; returns a ChannelInfo."""


@_verb("status")
def status(line: str) -> None:
    """Every channel of the session with state, users, updates, drops and last update."""


@_verb("list")
@argument("pattern", nargs="?", default="*", metavar="PATTERN", help="glob, e.g. 'DEMO:*' (default: all)")
@argument("--load", metavar="FILE", help="add a PV list file (one address per line) to the known names")
@argument("--refresh", action="store_true", help="fetch the Tango database names again (waits up to 10 s)")
def list_(line: str) -> None:
    """Hosted and known names (from local caches only); returns a list of str."""


@_verb("host")
@argument("assignment", nargs="?", metavar="NAME=VALUE")
@argument("--units")
@argument("--precision", type=int)
@argument("--limits", nargs=2, type=float, metavar=("LOW", "HIGH"), help="control limits: writes outside are refused")
@argument("--alarm-limits", nargs=2, type=float, metavar=("LOW", "HIGH"))
@argument("--warning-limits", nargs=2, type=float, metavar=("LOW", "HIGH"))
@argument("--enum", metavar="A,B,...", help="choices of an enum PV")
@argument("--writable", action="store_true", help="clients may write (default: read-only for clients)")
@argument("--doc")
@argument("--group", metavar="MODULE:CLASS", help="host a Device, Daemon or caproto PVGroup class")
@argument("--prefix", default="", help="PV prefix for --group")
def host(line: str) -> None:
    """Serve a PV (or a device/daemon/group class) from this process; returns its handle."""


@_verb("plot")
@argument("addresses", nargs="+", metavar="ADDR")
@argument("--duration", type=_positive, default=5.0, metavar="S",
          help="seconds to collect (default 5; Ctrl-C ends early)")
@argument("--output", metavar="FILE.png", help="where the PNG goes (default: ctlshell-plot-TIME.png here)")
@argument("--window", type=_positive, default=None, metavar="S",
          help="notebook live plot: seconds shown (default 60)")
def plot(line: str) -> None:
    """Plot live values over time (an array: its latest shape). In a notebook without
    --output: a live plot that keeps updating (returned; .close() stops it). Else
    collects for --duration and writes a PNG, returns its path."""


@_verb("snapshot")
@argument("action", choices=["save", "diff", "restore"])
@argument("file", metavar="FILE")
@argument("addresses", nargs="*", metavar="ADDR", help="channels to save (restore/diff: a subset of the file)")
@argument("--dry-run", action="store_true", help="restore: show the writes, do none")
def snapshot(line: str) -> None:
    """save: read ADDRs into FILE (JSON); diff: compare FILE with now; restore: write back what differs."""


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise ValueError(text)
    return value


_port.__name__ = "port number"


@_verb("gateway")
@argument("action", nargs="?", choices=["start", "stop", "list"], default="list")
@argument("config", nargs="?", metavar="FILE.json", help="start: a p4p.gw configuration file written for a site "
          "(instead of the options below)")
@argument("--upstream", nargs="+", metavar="ADDR[:PORT]", help="start: where it searches for PVs (default 127.0.0.1)")
@argument("--port", type=_port, help="start: TCP port its server side listens on (default 5085); "
          "stop: only the gateway on this port")
@argument("--broadcast-port", type=_port, help="start: UDP search port of its server side (default 5086)")
@argument("--interfaces", nargs="+", metavar="ADDR", help="start: addresses it serves on (default 127.0.0.1)")
@argument("--status-prefix", metavar="PREFIX", help="start: prefix of its status PVs (default GW:; '' for none)")
@argument("--read-only", action="store_true", help="start: refuse every put through it")
def gateway(line: str) -> None:
    """Start, list or stop PV Access gateways (p4p.gw, each in a process of its own);
    start returns the Gateway, list the running ones, stop how many were stopped."""


VERBS: dict[str, Callable[..., Any]] = {
    "get": get, "put": put, "stop": stop, "monitor": monitor, "unmonitor": unmonitor, "info": info, "status": status,
    "list": list_, "host": host, "plot": plot, "snapshot": snapshot, "gateway": gateway,
}


def verb_help(verb: str) -> str:
    fn = VERBS[verb]
    return fn.parser.format_help()  # type: ignore[attr-defined]  # @magic_arguments sets .parser


def usage() -> str:
    """Usage of every verb, for ``%pv?``."""
    lines = ["Read, write, watch and host PVs of every protocol.", "",
             "%pv [--debug] VERB ARGS    (--debug: show the full traceback of an error)", ""]
    for fn in VERBS.values():
        summary = " ".join((fn.parser.description or "").split())  # type: ignore[attr-defined]  # as above
        usage_line = " ".join(fn.parser.format_usage().replace("::", "").split())  # type: ignore[attr-defined]  # as above
        lines += [usage_line, f"    {summary}"]
    lines += ["", "`%pv VERB?` shows one verb's options. Addresses: ca://NAME, pva://NAME,",
              "tango://[host:port/]domain/family/member/attr, local://NAME or a bare name (ca)."]
    return "\n".join(lines)


def parse(verb: str, argstring: str) -> Any:
    """Parse a verb's arguments.

    Raises
    ------
    UsageError
        Unknown verb, missing or malformed argument (one line, argparse's words).
    """
    fn = VERBS.get(verb)
    if fn is None:
        raise UsageError(f"unknown verb {verb!r} for %pv; verbs: {', '.join(VERBS)}")
    try:
        return fn.parser.parse_argstring(argstring)  # type: ignore[attr-defined]  # @magic_arguments sets .parser
    except UsageError as exc:
        raise UsageError(f"%pv {verb}: {exc}") from None
    except ValueError as exc:  # unbalanced quotes from the shlex split
        raise UsageError(f"%pv {verb}: {exc}") from None


def parse_value(words: list[str] | str) -> Any:
    """A typed value from what was typed: Python literals (numbers, lists, quoted
    strings, True/False) become those; anything else stays a string. Never ``eval``."""
    text = words if isinstance(words, str) else " ".join(words)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
