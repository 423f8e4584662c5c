"""``python -m ctlshell.ipython.kernel --profile-dir DIR -f CONNECTION_FILE``: IPython's
kernel running a ctlshell profile, as the terminal does (see :mod:`._launch`).

The kernel spec ``ctlshell kernelspec`` installs starts this; the profile's startup
files are listed when the kernel starts, so a file added to ``startup/`` later is run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Start the kernel; ``--profile-dir DIR`` (or ``--profile NAME``) picks the profile, the rest goes to ipykernel.

    Raises
    ------
    SystemExit
        With a one-line message when the profile is not found.
    """
    import argparse

    p = argparse.ArgumentParser(prog="python -m ctlshell.ipython.kernel", add_help=False, allow_abbrev=False)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--profile-dir", metavar="DIR")
    which.add_argument("--profile", default="default", metavar="NAME")
    args, rest = p.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    from .. import profiles

    try:
        profile = profiles.from_dir(args.profile_dir) if args.profile_dir else profiles.find(args.profile)
    except ValueError as exc:
        raise SystemExit(f"ctlshell kernel: {exc}") from None
    from ipykernel.kernelapp import IPKernelApp

    from ._launch import profile_config

    config, first = profile_config(profile)
    IPKernelApp.launch_instance(argv=[*first, *rest], config=config)


if __name__ == "__main__":
    # as ipykernel_launcher: the working directory leaves sys.path while the kernel loads
    # (IPython puts it back for the user's code)
    if sys.path[0] == "" or Path(sys.path[0]) == Path.cwd():
        del sys.path[0]
    main()
