"""Run the embedded Tango database and the ctlshell test devices until Ctrl-C.

``python -m ctlshell.testing.tango_demo [--port PORT]`` starts pytango's SQLite
database on 127.0.0.1 (a free port unless given) and one ``CtlShellTest/demo``
server with ``demo/ctl/dev`` (a CtlTestDevice) and ``demo/ctl/motor`` (a CtlMotor),
prints the addresses to use, and stops both (by PID) on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import threading

from ._tango import TangoDatabase, TangoServer

DEVICES = {"demo/ctl/dev": "CtlTestDevice", "demo/ctl/motor": "CtlMotor"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=None, help="database port (default: a free one)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with TangoDatabase(args.port) as db, TangoServer("demo", DEVICES, database=db):
        print(f"Tango database on {db.host}; in another shell:\n"
              f"  export TANGO_HOST={db.host}\n"
              f"  ctlshell  ->  get('tango://demo/ctl/motor/position'), "
              f"command('tango://demo/ctl/motor->MoveRelative')(1.5)\n"
              f"or, without TANGO_HOST: get('tango://{db.host}/demo/ctl/dev/double_scalar')\n"
              "Ctrl-C stops both servers.", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
