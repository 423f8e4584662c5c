"""``ctlshell nxwriter``: run the ``NexusWriter`` device server.

Without a Tango database by default (``-nodb``), bound to ``--host`` (127.0.0.1) and
``--port``; clients use ``tango://HOST:PORT/DEVICE#dbase=no``. When ``TANGO_HOST`` is
set (and ``--nodb`` is not given) the device is registered in that database as server
``NexusWriter/INSTANCE`` (``--instance``, default ``ctlshell``) and clients find it by
name.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]

DEFAULT_DEVICE = "ctlshell/nexus/writer"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ctlshell nxwriter", description="Run the NexusWriter Tango device server "
                                "(NXSDataWriter's interface) that writes NeXus files.")
    p.add_argument("--data-dir", default=".", help="files are written only under this directory (default: .)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="TCP port (default: one the system picks, printed at start)")
    p.add_argument("--device", default=DEFAULT_DEVICE, help=f"device name without database ({DEFAULT_DEVICE})")
    p.add_argument("--instance", default="ctlshell", help="server instance in the Tango database (ctlshell)")
    p.add_argument("--nodb", action="store_true", help="run without a Tango database even if TANGO_HOST is set")
    return p


def _register(device: str, instance: str) -> None:
    """Add (or re-add) the device to the database of TANGO_HOST as NexusWriter/INSTANCE."""
    import tango

    info = tango.DbDevInfo()
    info.name, info._class, info.server = device, "NexusWriter", f"NexusWriter/{instance}"
    tango.Database().add_device(info)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    data_dir = os.path.realpath(args.data_dir)
    if not os.path.isdir(data_dir):
        print(f"ctlshell nxwriter: data directory {data_dir} does not exist", file=sys.stderr)
        return 2
    use_db = bool(os.environ.get("TANGO_HOST")) and not args.nodb
    from ._device import NexusWriter

    NexusWriter.DATA_DIR = data_dir
    endpoint = ["-ORBendPoint", f"giop:tcp:{args.host}:{args.port}"]
    if use_db:
        import tango

        try:
            _register(args.device, args.instance)
        except tango.DevFailed as exc:
            print(f"ctlshell nxwriter: cannot register {args.device} in {os.environ['TANGO_HOST']}: "
                  f"{exc.args[0].desc.strip()}", file=sys.stderr)
            return 2
        server_args = [args.instance, *endpoint]
        where = f"{args.device} (server NexusWriter/{args.instance} in the Tango database {os.environ['TANGO_HOST']})"
    else:
        server_args = ["nxwriter", "-nodb", "-dlist", args.device, *endpoint]
        where = ""

    def ready() -> None:
        nonlocal where
        if not where:  # port 0: the system chose it; the address says which
            from ._ior import server_host_port

            where = f"tango://{args.host}:{server_host_port()[1]}/{args.device}#dbase=no"
        print(f"NexusWriter ready: {where} (data directory {data_dir})", flush=True)

    NexusWriter.run_server(args=server_args, post_init_callback=ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
