"""The gateway process: ``python -m ctlshell.gateway._runner CONFIG.json``.

Runs p4p's own gateway (:class:`p4p.gw.App`, the same code as ``python -m p4p.gw``)
with one change: the status PVs are refreshed every ``--status-period`` seconds
instead of p4p.gw's fixed 30 s, while the channel-cache sweep keeps its own, longer
period (it must exceed twice the longest search interval). Prints ``@@ready`` once
serving; stops on SIGINT or SIGTERM, or when the parent process is gone.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

READY = "@@ready"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ctlshell-gateway")
    ap.add_argument("config", help="p4p.gw JSON configuration")
    ap.add_argument("--status-period", type=float, default=5.0, help="seconds between status PV updates")
    ap.add_argument("--sweep-period", type=float, default=30.0, help="seconds between channel-cache sweeps")
    ap.add_argument("--parent", type=int, default=0, help="exit when this process is gone")
    args = ap.parse_args(argv)

    from p4p import gw

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if os.environ.get("CTLSHELL_GATEWAY_DEBUG"):  # every search and its answer, in the log
        logging.getLogger("p4p.gw").setLevel(logging.DEBUG)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    app = gw.App(gw.getargs().parse_args([args.config]))
    try:
        app.stats.update_stats(args.status_period)
        print(READY, flush=True)
        next_sweep = time.monotonic() + args.sweep_period
        while not stop.wait(args.status_period):
            if args.parent and os.getppid() != args.parent:
                logging.info("parent %s is gone: stopping", args.parent)
                break
            if time.monotonic() >= next_sweep:
                next_sweep += args.sweep_period
                app.stats.sweep()
            app.stats.update_stats(args.status_period)
    finally:
        for server in app.servers.values():
            server.stop()
        logging.info("gateway stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
