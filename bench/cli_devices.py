"""pyepics low-level CA client (bench child for bench_devices.py).

  cli_devices.py putcb --pv NAME [--n 300] [--warmup 30] [--method libca|pyepics]
      N sequential puts with completion callback, each timed from just before
      the put until the server's put-callback answer arrives.
      libca (default): libca's ca_array_put_callback through ctypes (the
      callback gets the server's status; pyepics' own put drops it);
      pyepics: epics.ca.put(chid, v, wait=True).
      Emits one 'result' with median/p90/p99 and the statuses.
  cli_devices.py sub --pv NAME
      epics.ca.create_subscription (DBR_TIME), counting updates (value =
      counter).  Emits 'ready' after the initial update; on
      'drain N IDLE MAXWAIT' waits until counter N arrives, or IDLE s pass
      without an update, or MAXWAIT s pass in all; emits 'result'.

With pyepics' default PREEMPTIVE_CALLBACK the callbacks run on a libca thread.
"""
import argparse
import ctypes
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import commands, emit, med, pct, sequence_summary  # noqa: E402


def connect(name):
    from epics import ca
    ca.initialize_libca()
    chid = ca.create_channel(name, connect=True, auto_cb=False)
    if not ca.connect_channel(chid, timeout=10):
        raise RuntimeError('could not connect %s' % name)
    return ca, chid


def do_putcb(args):
    from epics import dbr
    ca, chid = connect(args.pv)
    done = threading.Event()
    box = {}

    def on_done(cb_args):
        box['t'] = time.perf_counter()
        box['status'] = int(cb_args.status)
        done.set()

    callback = dbr.make_callback(on_done, dbr.event_handler_args)   # keep a reference
    data = (ctypes.c_double * 1)()
    base = float(random.randint(1, 1000) * 1e3)
    rtts, statuses, timeouts = [], {}, 0
    for i in range(1, args.n + args.warmup + 1):
        v = base + i
        if args.method == 'libca':
            done.clear()
            box.clear()
            data[0] = v
            t0 = time.perf_counter()
            status = ca.libca.ca_array_put_callback(dbr.DOUBLE, 1, chid, data, callback, None)
            ca.libca.ca_flush_io()
            if status != 1:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                continue
            if not done.wait(5.0):
                timeouts += 1
                continue
            t1, st = box['t'], box['status']
        else:
            t0 = time.perf_counter()
            ret = ca.put(chid, v, wait=True, timeout=5.0)
            t1 = time.perf_counter()
            st = 1 if ret == 1 else ret
            if ret is None or ret < 0:
                timeouts += 1
                continue
        statuses[str(st)] = statuses.get(str(st), 0) + 1
        if i > args.warmup:
            rtts.append(t1 - t0)
    final = ca.get(chid, timeout=5.0)
    emit(event='result', n=len(rtts), timeouts=timeouts, statuses=statuses,
         median=med(rtts), p90=pct(rtts, 90), p99=pct(rtts, 99),
         min=min(rtts) if rtts else None, max=max(rtts) if rtts else None,
         final_readback=float(final) if final is not None else None,
         final_expected=base + args.n + args.warmup, puts=args.n + args.warmup)


def do_get(args):
    """--n sequential reads (ca_array_get_callback through pyepics' ca.get), each timed
    until its answer, after --warmup; the values must increase (each read reached the
    server's hook)."""
    ca, chid = connect(args.pv)
    rtts, values = [], []
    for i in range(args.n + args.warmup):
        t0 = time.perf_counter()
        value = ca.get(chid, timeout=5.0)
        t1 = time.perf_counter()
        if i >= args.warmup:
            rtts.append(t1 - t0)
            values.append(float(value))
    fresh = all(b > a for a, b in zip(values, values[1:]))
    emit(event='result', n=len(rtts), median=med(rtts), p90=pct(rtts, 90), p99=pct(rtts, 99),
         min=min(rtts), max=max(rtts), fresh=fresh, gets=args.n + args.warmup)


class Counter:
    def __init__(self):
        self.times, self.counters = [], []
        self.cond = threading.Condition()
        self.first = threading.Event()

    def __call__(self, value=None, **kw):
        t = time.monotonic()
        with self.cond:
            self.times.append(t)
            self.counters.append(float(value))
            self.cond.notify_all()
        self.first.set()


def do_sub(args):
    rec = Counter()
    ca, chid = connect(args.pv)
    keep = ca.create_subscription(chid, use_time=True, callback=rec)   # noqa: F841
    if not rec.first.wait(10):
        raise RuntimeError('no initial monitor update')
    time.sleep(0.3)
    with rec.cond:      # forget the initial update(s)
        del rec.times[:]
        del rec.counters[:]
    emit(event='ready')
    for words in commands():
        if words[0] == 'quit':
            break
        if words[0] != 'drain':
            continue
        target, idle, maxwait = float(words[1]), float(words[2]), float(words[3])
        deadline = time.monotonic() + maxwait
        timed_out = False
        with rec.cond:
            while True:
                if rec.counters and rec.counters[-1] >= target:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                n_before = len(rec.counters)
                rec.cond.wait(min(idle, left))
                if len(rec.counters) == n_before and time.monotonic() < deadline:
                    break    # idle: nothing more is coming
            times, counters = list(rec.times), list(rec.counters)
        emit(event='result', timed_out=timed_out, **sequence_summary(times, counters))
        break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['putcb', 'sub', 'get'])
    ap.add_argument('--pv', required=True)
    ap.add_argument('--n', type=int, default=300)
    ap.add_argument('--warmup', type=int, default=30)
    ap.add_argument('--method', choices=['libca', 'pyepics'], default='libca')
    args = ap.parse_args()
    try:
        {'putcb': do_putcb, 'sub': do_sub, 'get': do_get}[args.mode](args)
    except Exception as ex:
        import traceback
        emit(event='error', error=repr(ex), tb=traceback.format_exc())
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)   # skip libca teardown


if __name__ == '__main__':
    main()
