"""NeXus step-scan bench: ctlshell's NexusWriter device vs nxswriter's NXSDataWriter
(both through Tango, ``Record(json)`` per step) vs naive raw h5py, in one run.

The method of ``shared/anchors/nexus/t2_bench_stepscan.py``: 1000 steps, each 10
float64 scalars (``ch00..ch09``) + one 1000-float64 spectrum (``mca``), CLIENT values in
a ~20 kB JSON record built before timing; modes interleaved round-robin over ``--reps``;
median and best steps/s (5 reps: a run varies by ±15 %), CPU ms per step (client + server process), and every file's
values checked against the input afterwards.

- ``nxs_tango``: NXSDataWriter (default NumberOfThreads=100, as shipped), no database.
- ``nxs_tango_t1``: the same with NumberOfThreads=1 (its faster setting on 2 cores).
- ``ctlshell_tango``: ``ctlshell nxwriter`` (SWMR, flush after every record). In each run
  another process opens the file at step 500 (SWMR) and must see exactly 500 points.
- ``h5py_naive``: raw h5py, chunks (1,) and (1,1000), resize + write + flush of each
  dataset per step, no JSON (the issue's reference: "naive h5py").

Run: ``.venv/bin/python bench/bench_nexus.py [--steps 1000] [--reps 3] [--json out.json]``
Everything binds 127.0.0.1; every server started here is stopped here.
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

import h5py
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NCH, NSP = 10, 1000
READER = "import h5py,sys\nwith h5py.File(sys.argv[1],'r',swmr=True) as f: print(f[sys.argv[2]].shape[0])"


def make_xml() -> str:
    """The anchor's layout: detector scalars + spectrum, title (INIT), end_time (FINAL), NXdata links."""
    ch = "".join(f'<field name="ch{i:02d}" type="NX_FLOAT64" units="counts"><strategy mode="STEP"/>'
                 f'<datasource type="CLIENT" name="ch{i:02d}"><record name="ch{i:02d}"/></datasource></field>'
                 for i in range(NCH))
    mca = (f'<field name="mca" type="NX_FLOAT64" units="counts"><dimensions rank="1"><dim index="1" value="{NSP}"/>'
           '</dimensions><strategy mode="STEP"/><datasource type="CLIENT" name="mca"><record name="mca"/>'
           '</datasource></field>')
    return ('<?xml version="1.0"?><definition><group type="NXentry" name="entry">'
            '<field name="title" type="NX_CHAR"><strategy mode="INIT"/><datasource type="CLIENT" name="title">'
            '<record name="title"/></datasource></field>'
            '<field name="end_time" type="NX_CHAR"><strategy mode="FINAL"/><datasource type="CLIENT" '
            'name="end_time"><record name="end_time"/></datasource></field>'
            '<group type="NXinstrument" name="instrument"><group type="NXdetector" name="detector">'
            + ch + mca + '</group></group><group type="NXdata" name="data">'
            '<attribute name="signal" type="NX_CHAR">mca<strategy mode="INIT"/></attribute>'
            '<link name="mca" target="/entry/instrument/detector/mca"/>'
            '<link name="ch00" target="/entry/instrument/detector/ch00"/></group></group></definition>')


def make_records(steps: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    scal, spec = rng.random((steps, NCH)), rng.random((steps, NSP))
    recs = [json.dumps({"data": {**{f"ch{i:02d}": float(scal[s, i]) for i in range(NCH)},
                                 "mca": spec[s].tolist()}}) for s in range(steps)]
    return scal, spec, recs


def cpu(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def run_tango(device: str, pid: int, path: str, recs: list[str], swmr_check: bool) -> dict:
    import tango

    p = tango.DeviceProxy(device)
    p.set_timeout_millis(30000)
    p.XMLSettings = make_xml()
    p.FileName = path
    p.OpenFile()
    p.JSONRecord = json.dumps({"data": {"title": "bench"}})
    p.OpenEntry()
    seen = None
    c0, pc0, t0 = cpu(pid), time.process_time(), time.perf_counter()
    for i, r in enumerate(recs):
        if swmr_check and i == len(recs) // 2:
            pause = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", READER, p.FileName, "entry/instrument/detector/mca"],
                                 capture_output=True, text=True, timeout=60)
            seen = int(out.stdout.strip() or -1)
            t0 += time.perf_counter() - pause  # the check is not part of the timing
        p.Record(r)
    total = time.perf_counter() - t0
    used = cpu(pid) - c0 + time.process_time() - pc0
    p.JSONRecord = json.dumps({"data": {"end_time": "x"}})
    p.CloseEntry()
    p.CloseFile()
    out = {"steps_per_s": len(recs) / total, "cpu_ms_per_step": 1e3 * used / len(recs), "file": p.FileName}
    if swmr_check:
        out["reader_saw_at_half"] = seen
    return out


def run_h5py(path: str, scal: np.ndarray, spec: np.ndarray) -> dict:
    """Naive raw h5py: the anchor's ``h5py_same_flush``."""
    f = h5py.File(path, "w")
    det = f.create_group("entry/instrument/detector")
    dss = [det.create_dataset(f"ch{i:02d}", shape=(0,), maxshape=(None,), dtype="f8", chunks=(1,))
           for i in range(NCH)]
    mca = det.create_dataset("mca", shape=(0, NSP), maxshape=(None, NSP), dtype="f8", chunks=(1, NSP))
    pc0, t0 = time.process_time(), time.perf_counter()
    for s in range(len(scal)):
        for i, d in enumerate(dss):
            d.resize((s + 1,))
            d[s] = scal[s, i]
        mca.resize((s + 1, NSP))
        mca[s] = spec[s]
        f.flush()
    total = time.perf_counter() - t0
    used = time.process_time() - pc0
    f.close()
    return {"steps_per_s": len(scal) / total, "cpu_ms_per_step": 1e3 * used / len(scal), "file": path}


def check(path: str, scal: np.ndarray, spec: np.ndarray) -> bool:
    with h5py.File(path, "r") as f:
        det = f["entry/instrument/detector"]
        return bool(np.array_equal(det["mca"][()], spec)
                    and all(np.array_equal(det[f"ch{i:02d}"][()], scal[:, i]) for i in range(NCH)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--modes", default="nxs_tango,nxs_tango_t1,ctlshell_tango,h5py_naive")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    from ctlshell.nexus import WriterProcess
    from tests.integration.nexus_servers import NXSDataWriterServer

    modes = a.modes.split(",")
    scal, spec, recs = make_records(a.steps)
    out_dir = tempfile.mkdtemp(prefix="ctlshell-bench-nexus-")
    print(f"steps={a.steps} reps={a.reps} record ~{len(recs[0])} B  loadavg {os.getloadavg()}", flush=True)
    servers: dict[str, object] = {}
    if "nxs_tango" in modes:
        servers["nxs_tango"] = NXSDataWriterServer()
    if "nxs_tango_t1" in modes:
        servers["nxs_tango_t1"] = NXSDataWriterServer(threads=1)
    if "ctlshell_tango" in modes:
        servers["ctlshell_tango"] = WriterProcess(out_dir).start()
    results: dict[str, list[dict]] = {m: [] for m in modes}
    try:
        for rep in range(a.reps):
            for m in modes:
                path = os.path.join(out_dir, f"{m}_{rep}.h5")
                if m == "h5py_naive":
                    r = run_h5py(path, scal, spec)
                elif m == "ctlshell_tango":
                    srv = servers[m]
                    r = run_tango(srv.address, srv.pid, os.path.basename(path), recs, True)  # type: ignore[attr-defined]
                else:
                    srv = servers[m]
                    r = run_tango(srv.device, srv.pid, path, recs, False)  # type: ignore[attr-defined]
                r["values_ok"] = check(r.pop("file"), scal, spec)
                r["loadavg1"] = os.getloadavg()[0]
                os.remove(path)
                results[m].append(r)
                print(f"rep{rep} {m:15s} {r['steps_per_s']:8.1f} steps/s  cpu {r['cpu_ms_per_step']:.2f} ms/step"
                      f"  values {'ok' if r['values_ok'] else 'WRONG'}"
                      + (f"  reader saw {r['reader_saw_at_half']}/{a.steps // 2} at half" if "reader_saw_at_half"
                         in r else ""), flush=True)
    finally:
        for srv in servers.values():
            srv.stop()  # type: ignore[attr-defined]
    print("\nSUMMARY (median of reps; ratios of medians, same run)")
    med = {m: statistics.median(r["steps_per_s"] for r in results[m]) for m in modes}
    for m in modes:
        line = (f"  {m:15s} {med[m]:8.1f} steps/s (best {max(r['steps_per_s'] for r in results[m]):.1f}), "
                f"cpu {statistics.median(r['cpu_ms_per_step'] for r in results[m]):.2f} ms/step")
        if m == "ctlshell_tango":
            for ref in ("nxs_tango", "nxs_tango_t1", "h5py_naive"):
                if ref in med:
                    line += f"  | x{med[m] / med[ref]:.2f} vs {ref}"
        print(line)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"steps": a.steps, "results": results, "median_steps_per_s": med}, f, indent=1)
    os.rmdir(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
