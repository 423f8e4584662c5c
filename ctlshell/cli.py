"""The ``ctlshell`` console script: an IPython shell with ctlshell loaded.

``ctlshell``            the shell
``ctlshell --demo``     the shell, with the demo beamline hosted in-process
``ctlshell -c CMD``     run one command (with the same set-up) and exit
``ctlshell serve module:Class [--prefix P] [--state FILE]``
                        serve a daemon, device or caproto group headless (see ``serve``)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]

BANNER = """ctlshell {version}: get, put, monitor, info, status, host are imported.
  get("ca://NAME")            read a PV (value, timestamp, alarm)
  put("ca://NAME", 1.5)       write a PV (checked against its limits first)
  sub = monitor("ca://NAME", print); sub.close()
  pv = host("MY:PV", 1.0, units="mm", writable=True); pv.value = 2.0
  status()                    every channel of this session
"""

DEMO_BANNER = """Demo beamline hosted on CA (loopback): DEMO:MOTOR (setpoint), DEMO:MOTOR.RBV,
  DEMO:DET:COUNTS, DEMO:RING:CURRENT, DEMO:SHUTTER, DEMO:SAMPLE:TEMP, DEMO:SPECTRUM.
  Try: put("DEMO:SHUTTER", "Open"); put("DEMO:MOTOR", 2.5); get("DEMO:DET:COUNTS")
"""

SETUP = [
    "import ctlshell",
    "from ctlshell import get, put, monitor, info, status, host, unhost, hosted",
    "import ctlshell.cli; ctlshell.cli.quiet_errors(get_ipython())",
]


def quiet_errors(shell: object) -> None:
    """Show a ctlshell error as one line (its type and sentence), not a traceback.

    Expected failures (a refused value, a PV nobody serves) are messages to the user;
    ``ctlshell.cli.SHOW_TRACEBACKS = True`` brings the full traceback back.
    """
    from ctlshell.core import CtlshellError

    def handler(self: object, etype: type, value: BaseException, tb: object, tb_offset: object = None) -> None:
        if SHOW_TRACEBACKS:
            self.showtraceback((etype, value, tb), tb_offset=tb_offset)  # type: ignore[attr-defined]
        else:
            print(f"{etype.__name__}: {value}", file=sys.stderr)

    shell.set_custom_exc((CtlshellError,), handler)  # type: ignore[attr-defined]


SHOW_TRACEBACKS = False


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ctlshell", description="Interactive control shell for EPICS CA, PVA and Tango.",
        epilog="ctlshell serve module:Class [--prefix P] [--state FILE] serves a daemon headless "
               "(ctlshell serve --help).")
    p.add_argument("--demo", action="store_true", help="host the demo beamline in this process")
    p.add_argument("-c", dest="command", metavar="CMD", help="run CMD and exit")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        from . import serve

        return serve.main(argv[1:])
    args = _parser().parse_args(argv)
    import ctlshell

    if args.version:
        print(ctlshell.__version__)
        return 0
    if args.demo:
        # a demo is self-contained: unless told otherwise, search and serve on loopback only
        import os

        for key, value in {"EPICS_CA_AUTO_ADDR_LIST": "NO", "EPICS_CA_ADDR_LIST": "127.0.0.1",
                           "EPICS_CAS_INTF_ADDR_LIST": "127.0.0.1", "EPICS_CAS_AUTO_BEACON_ADDR_LIST": "NO",
                           "EPICS_CAS_BEACON_ADDR_LIST": "127.0.0.1", "EPICS_PVA_AUTO_ADDR_LIST": "NO",
                           "EPICS_PVA_ADDR_LIST": "127.0.0.1"}.items():
            os.environ.setdefault(key, value)
    lines = list(SETUP)
    banner = BANNER.format(version=ctlshell.__version__)
    if args.demo:
        lines.append("import ctlshell.demo; demo = ctlshell.demo.start()")
        banner += DEMO_BANNER
    from IPython import start_ipython
    from traitlets.config import Config

    config = Config()
    config.InteractiveShellApp.exec_lines = lines
    config.TerminalInteractiveShell.banner2 = banner
    config.TerminalIPythonApp.display_banner = args.command is None
    ipy_argv = ["--no-autoindent"]
    if args.command is not None:
        ipy_argv += ["-c", args.command]
    try:
        start_ipython(argv=ipy_argv, config=config)
    finally:
        ctlshell.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
