"""CPU burners beside a test run: :class:`Burners` and ``python -m tests.stress``.

Acceptance 1 of issue 21: the suite passes with two CPU-burning processes running
beside it (what a loaded 2-core CI machine looks like). Each burner is a child
process spinning in a loop; they are stopped by their own PIDs
(:func:`ctlshell.core.stop_process`), never by name.

    python -m tests.stress [-n 2] -- python -m pytest tests/unit/test_poller.py -x -q

runs the command with ``n`` burners and exits with its exit code; ``make test-stress``
runs the suite that way (``STRESS_TESTS=...`` to choose the test files).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence

from ctlshell.core import stop_process

__all__ = ["Burners", "main"]

BURN = "while True:\n    pass\n"


class Burners:
    """``n`` child processes that each keep one CPU busy until :meth:`stop`.

    Parameters
    ----------
    n : int
        How many (the acceptance uses two).
    """

    def __init__(self, n: int = 2) -> None:
        if n < 0:
            raise ValueError(f"the number of burners must be 0 or more, not {n}")
        self.n = n
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def start(self) -> Burners:
        for _ in range(self.n - len(self.procs)):
            self.procs.append(subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.DEVNULL))
        return self

    def stop(self) -> None:
        """Stop every burner by its PID (SIGTERM, SIGKILL if it hangs). Idempotent."""
        procs, self.procs = self.procs, []
        for proc in procs:
            stop_process(proc, 10)

    def __enter__(self) -> Burners:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.stress",
                                     description="Run a command with CPU-burning processes beside it.")
    parser.add_argument("-n", type=int, default=2, help="burners (default 2)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    if args.n < 0:
        parser.error(f"-n must be 0 or more, not {args.n}")
    with Burners(args.n) as burners:
        print(f"stress: {args.n} CPU burners (PIDs {' '.join(map(str, burners.pids))}) beside: "
              f"{' '.join(command)}", flush=True)
        return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
