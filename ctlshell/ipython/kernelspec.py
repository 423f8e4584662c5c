"""``ctlshell kernelspec``: install the ``ctlshell`` Jupyter kernel (IPython kernel with
the extension loaded and a profile run at start).

``make demo`` installs it into the project's virtual environment (``--sys-prefix``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["kernel_json", "main"]


def kernel_json(profile: str = "default", python: str | None = None) -> dict[str, object]:
    """The kernel.json of a ctlshell kernel running ``profile``."""
    return {
        "argv": [python or sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--InteractiveShellApp.extensions=ctlshell",
                 f"--InteractiveShellApp.exec_lines=%ctlshell_profile {profile}"],
        "display_name": "ctlshell" if profile == "default" else f"ctlshell ({profile})",
        "language": "python",
        "metadata": {"debugger": False},
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ctlshell kernelspec", description="Install the ctlshell Jupyter kernel.")
    p.add_argument("--name", default="ctlshell", help="kernel name (default: ctlshell)")
    p.add_argument("--profile", default="default", help="profile the kernel runs at start (default, demo)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for this user")
    where.add_argument("--prefix", help="install under this prefix (default: this environment, sys.prefix)")
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    from jupyter_client.kernelspec import KernelSpecManager

    from . import profile_path

    profile_path(args.profile)  # an unknown profile fails here, not in every kernel start
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kernel.json").write_text(json.dumps(kernel_json(args.profile), indent=1), encoding="utf-8")
        dest = KernelSpecManager().install_kernel_spec(
            tmp, args.name, user=args.user, prefix=None if args.user else (args.prefix or sys.prefix))
    print(f"installed kernel {args.name!r} (profile {args.profile}) in {dest}")
    return 0
