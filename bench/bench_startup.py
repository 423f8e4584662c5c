"""Start-up cost of the interactive layer, against plain IPython in the same run.

Measures the wall time of fresh processes, interleaved so that load on the machine
hits every variant alike:

- ``ipython -c pass``                       the reference
- ``ipython -c "%load_ext ctlshell"``        what the extension adds to IPython
- ``ctlshell -c pass``                      the console script (default profile)
- ``python -c "import ctlshell"``           the package alone (against ``python -c pass``)

Prints medians and the differences against the reference (goal: the extension adds
under 0.3 s); writes ``bench/results/startup.json``. Usage::

    .venv/bin/python bench/bench_startup.py [--reps 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent


def variants() -> dict[str, list[str]]:
    ipy = [str(BIN / "ipython"), "--HistoryManager.hist_file=:memory:", "--no-banner"]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import ctlshell'": [sys.executable, "-c", "import ctlshell"],
        "ipython -c pass": [*ipy, "-c", "pass"],
        "ipython -c '%load_ext ctlshell'": [*ipy, "-c", "%load_ext ctlshell"],
        "ctlshell -c pass": [str(BIN / "ctlshell"), "--HistoryManager.hist_file=:memory:", "-c", "pass"],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=15)
    args = p.parse_args()
    env = dict(os.environ, IPYTHONDIR=tempfile.mkdtemp(prefix="bench-ipython-"),
               EPICS_CA_AUTO_ADDR_LIST="NO", EPICS_CA_ADDR_LIST="127.0.0.1")
    runs: dict[str, list[float]] = {name: [] for name in variants()}
    for cmd in variants().values():  # warm the file cache once, unmeasured
        subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=120)
    for _ in range(args.reps):
        for name, cmd in variants().items():
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=120)
            runs[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) for name, v in runs.items()}
    ref = med["ipython -c pass"]
    print(f"{'variant':36} {'median s':>9} {'min s':>7} {'vs ipython -c pass':>19}")
    for name, v in runs.items():
        print(f"{name:36} {med[name]:9.3f} {min(v):7.3f} {med[name] - ref:+18.3f}s")
    summary = {
        "load_ext_adds_s": med["ipython -c '%load_ext ctlshell'"] - ref,
        "ctlshell_adds_s": med["ctlshell -c pass"] - ref,
        "import_ctlshell_adds_s": med["python -c 'import ctlshell'"] - med["python -c pass"],
        "ctlshell_over_ipython": med["ctlshell -c pass"] / ref,
    }
    goal = 0.3
    print(f"\n%load_ext ctlshell adds {summary['load_ext_adds_s']:+.3f} s, ctlshell -c pass adds "
          f"{summary['ctlshell_adds_s']:+.3f} s (x{summary['ctlshell_over_ipython']:.2f}) to ipython -c pass; "
          f"import ctlshell adds {summary['import_ctlshell_adds_s']:+.3f} s to python -c pass "
          f"(goal: extension < {goal} s: {'met' if summary['load_ext_adds_s'] < goal else 'NOT met'})")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "startup.json").write_text(json.dumps({"reps": args.reps, "runs": runs, "median": med,
                                                  "summary": summary, "load": os.getloadavg()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
