"""``ctlshell kernelspec``: install the ``ctlshell`` Jupyter kernel (IPython kernel with
the extension loaded and a profile directory run at start, :mod:`.kernel`).

``make demo`` installs it into the project's virtual environment (``--sys-prefix``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..profiles import Profile

__all__ = ["kernel_json", "main"]


def kernel_json(profile: str | Profile = "default", python: str | None = None) -> dict[str, object]:
    """The kernel.json of a ctlshell kernel running ``profile``.

    Parameters
    ----------
    profile : str or Profile
        A profile name (looked up now, see :func:`ctlshell.profiles.find`) or a profile.
    python : str, optional
        The kernel's interpreter (default: this one).

    Returns
    -------
    dict
        The kernel spec: :mod:`ctlshell.ipython.kernel` running the profile's directory,
        named by its absolute path.

    Raises
    ------
    ValidationError
        No profile of that name.
    """
    from .. import profiles

    prof = profiles.find(profile) if isinstance(profile, str) else profile
    argv = [python or sys.executable, "-m", "ctlshell.ipython.kernel", "-f", "{connection_file}",
            f"--profile-dir={prof.path}"]
    return {
        "argv": argv,
        "display_name": "ctlshell" if prof.name == "default" else f"ctlshell ({prof.name})",
        "language": "python",
        "metadata": {"debugger": False},
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ctlshell kernelspec", description="Install the ctlshell Jupyter kernel.")
    p.add_argument("--name", default="ctlshell", help="kernel name (default: ctlshell)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--profile", default="default", help="profile the kernel runs at start (default, demo, "
                       "a site's in CTLSHELL_PROFILE_PATH)")
    which.add_argument("--profile-dir", metavar="DIR", help="profile directory the kernel runs at start")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for this user")
    where.add_argument("--prefix", help="install under this prefix (default: this environment, sys.prefix)")
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    from .. import profiles

    try:  # an unknown profile fails here, not in every kernel start
        prof = profiles.from_dir(args.profile_dir) if args.profile_dir else profiles.find(args.profile)
    except ValueError as exc:
        print(f"ctlshell kernelspec: {exc}", file=sys.stderr)
        return 2
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kernel.json").write_text(json.dumps(kernel_json(prof), indent=1), encoding="utf-8")
        dest = KernelSpecManager().install_kernel_spec(
            tmp, args.name, user=args.user, prefix=None if args.user else (args.prefix or sys.prefix))
    print(f"installed kernel {args.name!r} (profile {prof.name}, {prof.path}) in {dest}")
    return 0
