"""An independent PVA client (p4p's thread Context, i.e. pvxs) run in its own process.

Usage: p4p_client.py VERB ARGS... ; prints one JSON line prefixed '@@'.
  describe NAME...            the whole structure of each PV (value, alarm, timeStamp,
                              display, control, valueAlarm) as JSON
  put NAME JSONVALUE          {"ok": bool, "error": str, "readback": value}; a JSON object
                              names fields explicitly (e.g. {"display.units": "x"})
  monitor NAME SECONDS        every update seen: value, severity, timestamp
  reads NAME N                N gets, each from a new context (as N runs of pvget):
                              value and severity of each
"""

import json
import sys
import time

import numpy as np
from p4p.client.thread import Context


def out(obj):
    print("@@" + json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)), flush=True)


def plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def describe(ctx, names):
    result = {}
    for name in names:
        v = ctx.get(name, timeout=10.0)
        result[name] = {k: plain(x) for k, x in v.todict().items()} | {"id": v.getID()}
    out(result)


def readback(ctx, name):
    v = ctx.get(name, timeout=10.0)
    return v["value.index"] if v.getID().startswith("epics:nt/NTEnum") else plain(v["value"])


def put(name, value):
    """A put as a p4p user writes it: NT wrappers on (an enum takes its choice), or a
    dict naming fields."""
    error = ""
    with Context("pva") as ctx:
        try:
            ctx.put(name, value, timeout=5.0, wait=True)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
    with Context("pva", nt=False) as ctx:
        out({"ok": not error, "error": error, "readback": readback(ctx, name)})


def monitor(ctx, name, seconds):
    seen = []

    def cb(v):
        if isinstance(v, Exception):
            seen.append({"error": type(v).__name__, "t": time.time()})
            return
        raw = v.raw if hasattr(v, "raw") else v
        value = raw["value.index"] if v.getID().startswith("epics:nt/NTEnum") else plain(raw["value"])
        seen.append({"value": value, "severity": raw["alarm.severity"], "t": time.time(),
                     "timestamp": raw["timeStamp.secondsPastEpoch"] + raw["timeStamp.nanoseconds"] * 1e-9})

    sub = ctx.monitor(name, cb, notify_disconnect=True)
    deadline = time.monotonic() + 10
    while not any("value" in s for s in seen) and time.monotonic() < deadline:
        time.sleep(0.01)
    print("@@ready", flush=True)
    time.sleep(seconds)
    sub.close()
    out(seen)


def reads(name, n):
    seen = []
    for _ in range(n):
        with Context("pva", nt=False) as ctx:
            v = ctx.get(name, timeout=10.0)
            seen.append({"value": plain(v["value"]), "severity": v["alarm.severity"]})
    out(seen)


if __name__ == "__main__":
    verb, args = sys.argv[1], sys.argv[2:]
    if verb == "reads":
        reads(args[0], int(args[1]))
        sys.exit(0)
    if verb == "put":
        put(args[0], json.loads(args[1]))
        sys.exit(0)
    with Context("pva", nt=False) as ctx:
        if verb == "describe":
            describe(ctx, args)
        elif verb == "monitor":
            monitor(ctx, args[0], float(args[1]))
        else:
            out({"error": f"unknown verb {verb}"})
            sys.exit(2)
