"""Bench of the live strip chart (acceptance 4 of the widgets issue).

A server process hosts a PV it sets 1 000 times a second; a real kernel
(jupyter_client, loopback, ports of its own) monitors it over CA: a StripChart (ring buffer of 10 000
points, frame-rate cap 20) plots it and pushes each frame as a PNG on iopub, as
in a notebook. For ``--seconds`` (60) this script, the front-end, times a trivial
cell every second and samples the kernel's RSS, frames drawn and points received
every 5 s. Prints the figures and a verdict against the acceptance bounds:
memory flat, 10 <= drawn fps <= cap, trivial cell < 100 ms.

    .venv/bin/python bench/bench_widgets.py [--seconds 60] [--rate 1000] [--fps 20]
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ctlshell.testing import child_command, free_port, loopback_env

FEEDER = """
import time, ctlshell
pv = ctlshell.host("BENCH:FAST", 0.0, units="V")
print("ready", flush=True)
i, t0 = 0, time.perf_counter()
while True:
    i += 1
    pv.value = float(i % 1000)
    ahead = t0 + i / {rate} - time.perf_counter()
    if ahead > 0:
        time.sleep(ahead)
"""

SETUP = """
import time, psutil
from ctlshell import widgets
chart = widgets.StripChart("ca://BENCH:FAST", length=10_000, window=10, fps={fps}, interactive=True)
proc = psutil.Process()
def sample():
    ring = chart.rings["ca://BENCH:FAST"]
    return {{"rss": proc.memory_info().rss, "drawn": chart.drawn, "points": ring.count, "kept": len(ring),
             "dropped": chart.dropped, "t": time.monotonic()}}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--fps", type=float, default=20.0)
    opts = ap.parse_args()
    from jupyter_client.manager import KernelManager

    tmp = Path(tempfile.mkdtemp(prefix="bench-widgets-"))
    feed_port = free_port()
    port = free_port(avoid=[feed_port, feed_port + 1])
    feeder = subprocess.Popen(child_command("-c", FEEDER.format(rate=opts.rate)), stdout=subprocess.PIPE, text=True,
                              env=loopback_env(ca_server_port=feed_port, ca_search_ports=[feed_port]))
    assert feeder.stdout is not None and feeder.stdout.readline().strip() == "ready"
    env = loopback_env(ca_server_port=port, ca_search_ports=[feed_port])
    env.update(JUPYTER_RUNTIME_DIR=str(tmp / "rt"), IPYTHONDIR=str(tmp / "ipy"), MPLCONFIGDIR=str(tmp / "mpl"),
               JUPYTER_PLATFORM_DIRS="1")
    km = KernelManager(kernel_name="python3", connection_file=str(tmp / "kernel.json"))
    km.kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    frames_seen = [0]
    stop = threading.Event()

    def drain() -> None:  # the front-end's side of iopub: every pushed frame is received
        while not stop.is_set():
            try:
                msg = kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                continue
            data = msg["content"].get("data", {}) if msg["msg_type"] == "comm_msg" else {}
            if ["value"] in data.get("buffer_paths", []):  # an image widget's new PNG
                frames_seen[0] += 1

    def run(code: str) -> tuple[float, object]:
        t0 = time.perf_counter()
        msg_id = kc.execute(code, store_history=False, user_expressions={"r": "__r"} if "__r" in code else None)
        while True:  # the reply on the shell channel; iopub is drained by its own thread
            reply = kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        elapsed = time.perf_counter() - t0
        assert reply["content"]["status"] == "ok", reply["content"]
        expr = reply["content"].get("user_expressions", {}).get("r")
        return elapsed, (json.loads(expr["data"]["text/plain"].replace("'", '"')) if expr else None)

    try:
        run(SETUP.format(rate=opts.rate, fps=opts.fps))
        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()
        time.sleep(3.0)  # warm-up: the ring fills (10 000 points at 1 kHz = 10 s), fonts cached
        samples, cells = [], []
        t_end = time.monotonic() + opts.seconds
        next_sample = 0.0
        while time.monotonic() < t_end:
            cells.append(run("1 + 1")[0])
            if time.monotonic() >= next_sample:
                samples.append(run("__r = sample()")[1])
                next_sample = time.monotonic() + 5
                s = samples[-1]
                print(f"  t={s['t'] - samples[0]['t']:5.1f} s  rss={s['rss'] / 2**20:6.1f} MiB  drawn={s['drawn']:5d}  "
                      f"points={s['points']:6d} kept={s['kept']:5d} dropped={s['dropped']}", flush=True)
            time.sleep(1.0)
        samples.append(run("__r = sample()")[1])
    finally:
        stop.set()
        if "drainer" in locals():
            drainer.join(5)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        feeder.kill()
        feeder.wait()
    first, last = samples[0], samples[-1]
    span = last["t"] - first["t"]
    fps = (last["drawn"] - first["drawn"]) / span
    rate = (last["points"] - first["points"]) / span
    after_fill = [s["rss"] for s in samples if s["points"] >= 10_000]
    rss_growth = (max(after_fill) - min(after_fill)) / 2**20 if after_fill else float("nan")
    cells_ms = sorted(1000 * c for c in cells)
    p95 = cells_ms[int(0.95 * (len(cells_ms) - 1))]
    print(f"\nupdates received {rate:.0f}/s (asked {opts.rate}/s) for {span:.0f} s; ring kept {last['kept']} points")
    print(f"frames drawn {fps:.1f}/s (cap {opts.fps:g}); frames received by the front-end {frames_seen[0]}")
    print(f"kernel RSS {first['rss'] / 2**20:.1f} -> {last['rss'] / 2**20:.1f} MiB; spread after the ring filled "
          f"{rss_growth:.1f} MiB")
    print(f"trivial cell ({len(cells)}): median {statistics.median(cells_ms):.1f} ms, p95 {p95:.1f} ms, "
          f"max {cells_ms[-1]:.1f} ms")
    ok = 10 <= fps <= opts.fps + 0.5 and cells_ms[-1] < 100 and rss_growth < 20
    print("verdict:", "within the acceptance bounds" if ok else "OUTSIDE the acceptance bounds")


if __name__ == "__main__":
    main()
