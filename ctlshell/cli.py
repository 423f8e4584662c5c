"""The ``ctlshell`` console script: IPython's terminal with ctlshell loaded and a profile.

``ctlshell [--profile NAME]``   the shell (``%pv`` and the verbs) with a profile (``default``,
                                ``demo`` or a site's, see :mod:`ctlshell.profiles`)
``ctlshell --profile-dir DIR``  the same with the profile in directory DIR
``ctlshell --demo``             the same as ``--profile demo``: the demo beamline hosted in-process
``ctlshell -c CMD``             run one command (with the same set-up) and exit
``ctlshell serve module:Class [--prefix P] [--state FILE]``
                                serve a daemon, device or caproto group headless (see ``serve``)
``ctlshell nxwriter [--data-dir DIR] [--port P]``
                                run the NexusWriter Tango device server (NeXus files, see ``nexus``)
``ctlshell kernelspec``         install the ``ctlshell`` Jupyter kernel into this environment
Other options (``--colors=NoColor``, ``--TerminalInteractiveShell.x=y``) go to IPython.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main", "quiet_errors"]

BANNER = """ctlshell {version}: %pv and get, put, monitor, info, status, host are ready.
  %pv get ca://NAME            read (value, units, alarm, time); x = %pv get ... keeps the Reading
  %pv put ca://NAME 1.5        write (checked against its limits first); --wait for completion
  %pv monitor ca://NAME        live updates until Ctrl-C;   %pv info / status / list / plot / snapshot
  %pv host MY:PV=1.0 --units mm --writable       serve a PV from this process
  %pv?  usage of every verb;   Tab completes verbs and known PV names (never asks the network)
"""

DEMO_BANNER = """Demo beamline hosted on CA (loopback): DEMO:MOTOR (setpoint), DEMO:MOTOR.RBV,
  DEMO:DET:COUNTS, DEMO:RING:CURRENT, DEMO:SHUTTER, DEMO:SAMPLE:TEMP, DEMO:SPECTRUM.
  Try: %pv put DEMO:SHUTTER Open;  %pv put DEMO:MOTOR 2.5 --wait;  %pv monitor DEMO:DET:COUNTS
"""

#: The demo searches this host only: loopback's broadcast address reaches every CA
#: server of the host, a unicast to 127.0.0.1 one of them; pvxs fans a unicast out to
#: all. (The CA server sets its loopback beacon list itself while it starts.)
LOOPBACK = {"EPICS_CA_AUTO_ADDR_LIST": "NO", "EPICS_CA_ADDR_LIST": "127.255.255.255",
            "EPICS_CAS_INTF_ADDR_LIST": "127.0.0.1", "EPICS_PVA_AUTO_ADDR_LIST": "NO",
            "EPICS_PVA_ADDR_LIST": "127.0.0.1"}


def quiet_errors(shell: object) -> None:
    """Show a ctlshell error as one line (its type and sentence), not a traceback.

    Kept for scripts that called it; ``%load_ext ctlshell`` does this now.
    """
    from .ipython import _errors

    _errors.install(shell)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ctlshell", description="Interactive control shell for EPICS CA, PVA and Tango.",
        epilog="Subcommands: `ctlshell serve module:Class ...` serves a daemon headless (ctlshell serve --help); "
               "`ctlshell nxwriter` runs the NeXus writer device (ctlshell nxwriter --help); "
               "`ctlshell kernelspec` installs the Jupyter kernel. Unknown options are passed to IPython.")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--profile", default="default", metavar="NAME", help="profile by name: default, demo, or "
                       "a site's in a directory of CTLSHELL_PROFILE_PATH")
    which.add_argument("--profile-dir", metavar="DIR", help="profile in this directory (ipython_config.py, startup/)")
    which.add_argument("--demo", action="store_true", help="the same as --profile demo")
    p.add_argument("-c", dest="command", metavar="CMD", help="run CMD and exit")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        from . import serve

        return serve.main(argv[1:])
    if argv[:1] == ["nxwriter"]:
        from .nexus import _server

        return _server.main(argv[1:])
    if argv[:1] == ["kernelspec"]:
        from .ipython import kernelspec

        return kernelspec.main(argv[1:])
    args, ipython_args = _parser().parse_known_args(argv)
    import ctlshell

    if args.version:
        print(ctlshell.__version__)
        return 0
    from . import profiles

    try:
        profile = profiles.from_dir(args.profile_dir) if args.profile_dir else profiles.find(
            "demo" if args.demo else args.profile)
    except ValueError as exc:
        print(f"ctlshell: {exc}", file=sys.stderr)
        return 2
    from IPython import start_ipython

    from .ipython._launch import profile_config

    config, first = profile_config(profile)
    config.TerminalInteractiveShell.banner2 = BANNER.format(version=ctlshell.__version__)
    config.TerminalInteractiveShell.confirm_exit = False
    config.TerminalIPythonApp.display_banner = args.command is None
    ipy_argv = ["--no-autoindent", *first, *ipython_args]
    if args.command is not None:
        ipy_argv += ["-c", args.command]
    try:
        start_ipython(argv=ipy_argv, config=config)
    finally:
        ctlshell.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
