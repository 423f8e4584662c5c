"""An independent CA client (pyepics, i.e. libca) run in its own process by the tests.

Usage: pyepics_client.py VERB ARGS... ; prints one JSON line prefixed '@@'.
  describe NAME...                 value, native type, count, metadata, alarm, timestamp
  put NAME JSONVALUE [wait]        {"ok": bool, "error": str}
  monitor NAME SECONDS [ctrl]      every update seen: value, severity, timestamp (with
                                   ctrl: a DBR_CTRL monitor, which has no timestamp)
  slow NAME SECONDS SLEEP          a monitor whose callback sleeps: ages of the values seen
  count NAME SECONDS               updates per second and the last value (bench)
  both NAME SECONDS                two monitors of one channel, DBR_TIME and plain: every
                                   update of each (value, severity, status, timestamp, receipt)
  joins NAME N SPACING SECONDS     N monitors of one channel made SPACING s apart: the last
                                   value each saw after SECONDS
  putcb NAME JSONVALUE             a put with completion callback through libca itself,
                                   with the server's status: {"status", "message", "elapsed", "readback"}
  gets NAME N                      N gets one after another: their durations (s)
  reads NAME N                     N reads on one channel: value and severity of each
  moves SET RBV JSONLIST           for each target: a put to SET with completion, then at
                                   once a get of RBV: [target, readback] pairs
  beside SLOW FAST N               a read of SLOW left pending while N gets of FAST run on
                                   the same connection: their durations, then SLOW's value
"""

import ctypes
import json
import sys
import threading
import time

import epics
import numpy as np
from epics import ca, dbr


def out(obj):
    print("@@" + json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)), flush=True)


def connect(name, timeout=10.0):
    chid = ca.create_channel(name, connect=False, auto_cb=False)
    if not ca.connect_channel(chid, timeout=timeout):
        out({"error": f"cannot connect {name}"})
        sys.exit(2)
    return chid


def describe(names):
    result = {}
    for name in names:
        chid = connect(name)
        ftype = ca.field_type(chid)
        ctrl = ca.get_ctrlvars(chid) or {}
        timevars = ca.get_timevars(chid) or {}
        value = ca.get(chid, as_string=False)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, bytes):
            value = value.decode()
        result[name] = {
            "value": value,
            "type": dbr.Name(ftype).lower(),
            "count": ca.element_count(chid),
            "units": ctrl.get("units", ""),
            "precision": ctrl.get("precision"),
            "upper_ctrl_limit": ctrl.get("upper_ctrl_limit"),
            "lower_ctrl_limit": ctrl.get("lower_ctrl_limit"),
            "enum_strs": list(ctrl.get("enum_strs", []) or []),
            "severity": timevars.get("severity"),
            "status": timevars.get("status"),
            "timestamp": timevars.get("timestamp"),
            "write_access": bool(ca.write_access(chid)),
        }
    out(result)


def put(name, value, wait):
    chid = connect(name)
    error = ""
    try:
        ca.put(chid, value, wait=wait, timeout=5.0)
    except Exception as exc:  # no write access raises here
        error = f"{type(exc).__name__}: {exc}"
    time.sleep(0.1)
    readback = ca.get(chid, as_string=False)
    if isinstance(readback, np.ndarray):
        readback = readback.tolist()
    # pyepics does not pass the put-callback status on, so "ok" means: the value took
    out({"ok": not error and readback == value, "readback": readback, "error": error})


def putcb(name, value):
    """pyepics drops the put-callback status, so call libca's ca_array_put_callback."""
    chid = connect(name)
    done = threading.Event()
    result = {}

    def on_done(args):
        result["status"] = int(args.status)
        done.set()

    callback = dbr.make_callback(on_done, dbr.event_handler_args)
    if isinstance(value, str):
        data = (ctypes.c_char * 40)()
        data.value = value.encode()
        ftype = dbr.STRING
    else:
        data = (ctypes.c_double * 1)(float(value))
        ftype = dbr.DOUBLE
    start = time.perf_counter()
    status = ca.libca.ca_array_put_callback(ftype, 1, chid, data, callback, None)
    ca.poll()
    ca.flush_io()
    if status != 1:
        result["status"] = status
    elif not done.wait(30):
        result["status"] = -1
    elapsed = time.perf_counter() - start
    time.sleep(0.1)
    readback = ca.get(chid, as_string=False)
    if isinstance(readback, np.ndarray):
        readback = readback.tolist()
    st = result["status"]
    out({"status": st, "ok": st == 1, "message": ca.message(st) if st > 0 else "no answer",
         "elapsed": elapsed, "readback": readback})


def gets(name, n):
    chid = connect(name)
    ca.get(chid)
    durations = []
    for _ in range(n):
        start = time.perf_counter()
        ca.get(chid, timeout=5.0)
        durations.append(time.perf_counter() - start)
        time.sleep(0.05)
    out({"durations": durations})


def reads(name, n):
    chid = connect(name)
    seen = []
    for _ in range(n):
        got = ca.get_with_metadata(chid, ftype=ca.promote_type(chid, use_time=True), timeout=5.0) or {}
        value = got.get("value")
        seen.append({"value": value.tolist() if isinstance(value, np.ndarray) else value,
                     "severity": got.get("severity")})
    out(seen)


def beside(slow_name, fast_name, n):
    slow, fast = connect(slow_name), connect(fast_name)
    ca.get(fast)
    ca.get(slow, wait=False)  # the request goes out; its answer comes when the item has read
    ca.poll()
    durations = []
    for _ in range(n):
        start = time.perf_counter()
        ca.get(fast, timeout=5.0)
        durations.append(time.perf_counter() - start)
    out({"durations": durations, "slow": ca.get_complete(slow, timeout=20.0)})


def monitor(name, seconds, ctrl=False):
    chid = connect(name)
    seen = []

    def cb(pvname=None, value=None, severity=None, timestamp=None, **kw):
        if isinstance(value, np.ndarray):
            value = value.tolist()
        seen.append({"value": value, "severity": severity, "timestamp": timestamp, "t": time.time()})

    handle = ca.create_subscription(chid, callback=cb, use_time=not ctrl, use_ctrl=ctrl)
    print("@@ready", flush=True)
    time.sleep(seconds)
    ca.clear_subscription(handle[2])
    out(seen)


def slow(name, seconds, sleep):
    chid = connect(name)
    ages = []
    first = []
    lock = threading.Lock()

    def cb(value=None, timestamp=None, **kw):
        with lock:
            now = time.time()
            if not first:
                first.append(now)
            ages.append((now, now - timestamp, float(np.ravel(value)[0])))
        time.sleep(sleep)

    handle = ca.create_subscription(chid, callback=cb, use_time=True)
    print("@@ready", flush=True)
    time.sleep(seconds)
    ca.clear_subscription(handle[2])
    out({"ages": ages})


def count(name, seconds):
    chid = connect(name)
    seen = {"n": 0, "last": None, "t_last": None}

    def cb(value=None, **kw):
        seen["n"] += 1
        seen["last"] = float(np.ravel(value)[0])
        seen["t_last"] = time.time()

    handle = ca.create_subscription(chid, callback=cb, use_time=True)
    print("@@ready", flush=True)
    time.sleep(seconds)
    ca.clear_subscription(handle[2])
    out(seen)


def both(name, seconds):
    chid = connect(name)
    seen = {"time": [], "plain": []}

    def recorder(kind):
        def cb(value=None, severity=None, status=None, timestamp=None, **kw):
            seen[kind].append({"value": float(np.ravel(value)[0]), "severity": severity, "status": status,
                               "timestamp": timestamp, "t": time.time()})
        return cb

    handles = [ca.create_subscription(chid, callback=recorder("time"), use_time=True),
               ca.create_subscription(chid, callback=recorder("plain"))]
    print("@@ready", flush=True)
    time.sleep(seconds)
    for handle in handles:
        ca.clear_subscription(handle[2])
    out(seen)


def joins(name, n, spacing, seconds):
    chid = connect(name)
    last = [None] * n
    handles = []

    def recorder(i):
        def cb(value=None, **kw):
            last[i] = float(np.ravel(value)[0])
        return cb

    print("@@ready", flush=True)
    start = time.monotonic()
    for i in range(n):
        handles.append(ca.create_subscription(chid, callback=recorder(i), use_time=True))
        time.sleep(spacing)
    time.sleep(max(0.0, seconds - (time.monotonic() - start)))
    for handle in handles:
        ca.clear_subscription(handle[2])
    out({"last": last})


def moves(setpoint, readback, targets):
    set_id, rbv_id = connect(setpoint), connect(readback)
    pairs = []
    for target in targets:
        ca.put(set_id, target, wait=True, timeout=30)
        pairs.append([target, ca.get(rbv_id, timeout=10)])
    out(pairs)


if __name__ == "__main__":
    verb, args = sys.argv[1], sys.argv[2:]
    if verb == "describe":
        describe(args)
    elif verb == "put":
        put(args[0], json.loads(args[1]), len(args) > 2 and args[2] == "wait")
    elif verb == "monitor":
        monitor(args[0], float(args[1]), len(args) > 2 and args[2] == "ctrl")
    elif verb == "slow":
        slow(args[0], float(args[1]), float(args[2]))
    elif verb == "putcb":
        putcb(args[0], json.loads(args[1]))
    elif verb == "gets":
        gets(args[0], int(args[1]))
    elif verb == "reads":
        reads(args[0], int(args[1]))
    elif verb == "beside":
        beside(args[0], args[1], int(args[2]))
    elif verb == "moves":
        moves(args[0], args[1], json.loads(args[2]))
    elif verb == "both":
        both(args[0], float(args[1]))
    elif verb == "joins":
        joins(args[0], int(args[1]), float(args[2]), float(args[3]))
    elif verb == "count":
        count(args[0], float(args[1]))
    else:
        out({"error": f"unknown verb {verb}"})
        sys.exit(2)
    epics.ca.finalize_libca()
