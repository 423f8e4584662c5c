"""The real Karabo as a test oracle: ``karabo==2.21.2`` in a venv of its own, made once.

Karabo pins numpy, pint and pytest, so it never shares ctlshell's environment. The
venv lives in ``$CTLSHELL_KARABO_VENV`` or ``~/.cache/ctlshell/karabo-2.21.2`` and is
kept between runs (a ``ready`` file marks a complete install; a lock file serialises
two suites that start at once). Installed as the issue asks: ``karabo`` without its
pinned dependencies, plus numpy, pint, python-dateutil, lxml, tabulate and traits;
psutil and aiormq too, which ``import karabo.middlelayer`` needs for its module
imports (no broker is contacted).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

VERSION = "2.21.2"
PACKAGES = ["numpy", "pint", "python-dateutil", "lxml", "tabulate", "traits", "psutil", "aiormq"]
SCENARIOS = Path(__file__).with_name("karabo_scenarios.py")


def venv_dir() -> Path:
    return Path(os.environ.get("CTLSHELL_KARABO_VENV") or Path.home() / ".cache" / "ctlshell" / f"karabo-{VERSION}")


def karabo_python() -> Path:
    """The oracle's interpreter, installing the venv first when it is not there yet.

    Raises
    ------
    RuntimeError
        The install failed (the pip output is in the message).
    """
    root = venv_dir()
    python = root / "bin" / "python"
    ready = root / "ready"
    if ready.exists():
        return python
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"karabo-{VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists():  # another suite finished it while we waited
            return python
        steps = [[sys.executable, "-m", "venv", "--clear", str(root)],
                 [str(python), "-m", "pip", "install", "-q", "--no-deps", f"karabo=={VERSION}"],
                 [str(python), "-m", "pip", "install", "-q", *PACKAGES],
                 [str(python), "-c", "import karabo.native, karabo.middlelayer"]]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600)
            if done.returncode:
                raise RuntimeError(f"installing the Karabo oracle failed at {step[2:]}: {done.stderr[-2000:]}")
        ready.write_text(VERSION)
    return python


def run_side(python: str | Path, side: str) -> dict[str, object]:
    """Every scenario's observations on one side (``karabo`` or ``ctlshell``)."""
    env = dict(os.environ, PYTHONPATH="", TZ="UTC")  # one time zone: str(Timestamp) is local time
    done = subprocess.run([str(python), str(SCENARIOS), side], capture_output=True, text=True, timeout=300,
                          env=env)
    if done.returncode:
        raise RuntimeError(f"the {side} side failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]
