"""``ctlshell serve module:Class``: run a daemon, device or caproto group headless.

Like mKTL's markd: import the class, make one with ``--prefix``, host it on CA
and PVA (loopback unless ``--interface`` says otherwise; ``--no-pva`` for CA
only), keep the journal and persisted items in ``--state FILE``, and run until
SIGINT or SIGTERM, then shut down cleanly (persisted values flushed, clients see
the server go).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from . import api
from .core import CtlshellError
from .host import make_hostable

__all__ = ["main"]

log = logging.getLogger("ctlshell.serve")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ctlshell serve", description="Serve a ctlshell Daemon or Device, or a caproto PVGroup, headless.")
    p.add_argument("target", metavar="module:Class", help="the class to serve, e.g. mypkg.oven:Oven")
    p.add_argument("--prefix", default="", help="PV name prefix (default: none)")
    p.add_argument("--state", metavar="FILE", default="",
                   help="SQLite file for persisted items and the write journal (default: in memory)")
    p.add_argument("--catalog", metavar="FILE", help="item catalog JSON for a Daemon (default: its CATALOG)")
    p.add_argument("--interface", action="append", metavar="ADDR",
                   help="address to serve on (repeatable; default 127.0.0.1 only)")
    p.add_argument("--port", type=int, help="CA server port (default: EPICS_CA_SERVER_PORT or 5064)")
    p.add_argument("--pva-port", type=int, help="PVA server port (default: EPICS_PVAS_SERVER_PORT or 5075)")
    p.add_argument("--no-pva", action="store_true", help="serve on Channel Access only")
    p.add_argument("--allow-host", action="append", metavar="PATTERN", help="only these client hosts may write")
    p.add_argument("--allow-user", action="append", metavar="PATTERN", help="only these client users may write")
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    return p


def _sharing_notes(names: list[str]) -> list[str]:
    """What another server of this host changes for this one, one line each: a CA port
    taken (TCP moves to a free one; searches still reach it), names it serves too."""
    from .host._ca_udp import served_elsewhere

    s = api.session()
    server, wanted = s.ca_server(), s.config.ca_server_port
    notes = []
    if server.port != wanted:
        notes.append(f"CA port {wanted} is taken by another server of this host: serving CA on TCP port "
                     f"{server.port}; clients still find it through searches on UDP {wanted}")
    try:
        clash = served_elsewhere(names, wanted, server.port)
    except OSError as exc:
        return [*notes, f"could not check for names served twice on this host: {exc}"]
    if clash:
        where = sorted(set(clash.values()))
        shown = sorted(clash)
        notes.append(f"warning: {len(clash)} name(s) also served by {', '.join(where)} on this host (clients get "
                     f"either): {', '.join(shown[:5])}{' ...' if len(shown) > 5 else ''}")
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        settings: dict[str, Any] = {"state_file": args.state}
        if args.interface:
            settings["server_interfaces"] = tuple(args.interface)
        if args.port is not None:
            settings["ca_server_port"] = args.port
        if args.pva_port is not None:
            settings["pva_server_port"] = args.pva_port
        if args.no_pva:
            settings["serve_pva"] = False
        api.configure(**settings)
        if args.allow_host or args.allow_user:
            api.restrict_writes(args.allow_host, args.allow_user)
        obj = make_hostable(args.target, args.prefix, args.catalog)
        api.host(obj)
        names = api.hosted()
        print(f"ctlshell serve: {args.target} with {len(names)} PVs under {args.prefix!r}: "
              f"{', '.join(names[:8])}{' ...' if len(names) > 8 else ''}", flush=True)
        for line in _sharing_notes(names):
            print(f"ctlshell serve: {line}", file=sys.stderr, flush=True)
        print("ctlshell serve: ready (Ctrl-C or SIGTERM stops)", flush=True)
        while not stop.wait(0.5):
            pass
    except CtlshellError as exc:
        print(f"ctlshell serve: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        api.shutdown()
    print("ctlshell serve: stopped", flush=True)
    return 0
