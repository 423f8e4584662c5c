"""Run by test_completion.py in a fresh process: time ``%pv`` Tab completion from a
cache of 10 000 names while no server runs, and record every socket the completing
thread opens (audit hook) and every socket the process gains (/proc/self/fd).

Prints one JSON line: timings in ms, candidates found, socket events, new sockets.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time

N = 10_000


def sockets() -> set[str]:
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            out.add(target)
    return out


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="ctlshell-names-")
    path = os.path.join(tmp, "pvs.txt")
    with open(path, "w") as f:  # mixed protocols, as a site PV list would be
        for i in range(N):
            scheme = ("ca://", "pva://", "tango://", "")[i % 4]
            name = f"sys/tg_test/{i}/double_scalar" if scheme == "tango://" else f"BL{i % 37:02d}:DEV{i}:VAL"
            f.write(f"{scheme}{name}\n")
    os.environ["CTLSHELL_PV_LIST"] = path

    from IPython.core.completer import provisionalcompleter
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    import ctlshell

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    ip.run_line_magic("load_ext", "ctlshell")
    # a live session whose channel cache holds a channel nobody serves
    ip.run_cell("%pv get ca://OFFLINE:CHANNEL --timeout 0.3", store_history=False)

    events: list[str] = []
    me = threading.get_ident()

    def audit(event: str, args: tuple) -> None:
        if event.startswith("socket.") and threading.get_ident() == me:
            events.append(event)

    lines = ["%pv get BL1", "%pv get ca://BL05:DEV", "%pv monitor pva://BL0", "%pv get tango://sys/tg_test/12",
             "%pv info BL33:DEV9", "%pv get ", "%pv put BL2", "%pv get ca://OFFLINE:"]
    results = {}
    for line in lines:  # warm-up (first call builds IPython's completer state)
        with provisionalcompleter():
            results[line] = [c.text for c in ip.Completer.completions(line, len(line))]
    before = sockets()
    sys.addaudithook(audit)
    times = []
    for _ in range(20):
        for line in lines:
            t0 = time.perf_counter()
            with provisionalcompleter():
                found = list(ip.Completer.completions(line, len(line)))
            times.append((time.perf_counter() - t0) * 1000)
            results[line] = [c.text for c in found]
    after = sockets()
    measured = list(events)
    import socket

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the detectors must see a socket
    seen_by_fd = len(sockets() - after)
    probe.close()
    print("@@" + json.dumps({
        "detector_check": {"audit_events": len(events) - len(measured), "new_fds": seen_by_fd},
        "names": N, "calls": len(times), "median_ms": statistics.median(times), "max_ms": max(times),
        "p90_ms": statistics.quantiles(times, n=10)[-1],
        "socket_events": measured, "new_sockets": sorted(after - before),
        "counts": {line: len(found) for line, found in results.items()},
        "offline": results["%pv get ca://OFFLINE:"][:3], "bare": results["%pv get BL1"][:3],
    }))
    ctlshell.shutdown()


if __name__ == "__main__":
    main()
