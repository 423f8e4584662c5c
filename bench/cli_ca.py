"""pyepics low-level CA client (bench child): epics.ca.create_subscription.

Adapted from anchors/epics/cli_ca.py (library 'pyepics-ca' only).  With
pyepics' default PREEMPTIVE_CALLBACK the callback runs on a libca thread.

  cli_ca.py sub  --pv NAME   counts updates (value / element 0 = counter);
                             emits ready after the initial update, then on
                             'drain N IDLE' waits for counter N (or IDLE s of
                             silence) and emits result
  cli_ca.py slow --pv NAME   slow client: the callback records (receipt
                             time.time(), element 0, CA timestamp) and then
                             sleeps --sleep s (0.05); on 'report W0 W1' emits
                             the ages of the values received with
                             W0 <= receipt <= W1 (wall clock)
  cli_ca.py lat  --pv NAME   --n puts (after --warmup) with ca.put(wait=False),
                             each timed from just before the put until the
                             monitor callback sees that value
"""
import argparse
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import commands, emit, med, pct, sequence_summary  # noqa: E402


def counter_of(value):
    try:
        return float(value[0])
    except (TypeError, IndexError):
        return float(value)


class Recorder:
    def __init__(self, sleep=0.0):
        self.times = []      # monotonic receipt times
        self.wall = []       # time.time() receipt times
        self.counters = []
        self.stamps = []     # CA timestamps
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.first = threading.Event()
        self.expect = None
        self.hit = threading.Event()
        self.hit_time = None
        self.sleep = sleep

    def __call__(self, value=None, timestamp=None, **kw):
        t = time.monotonic()
        w = time.time()
        c = counter_of(value)
        with self.lock:
            self.times.append(t)
            self.wall.append(w)
            self.counters.append(c)
            self.stamps.append(timestamp)
            self.cond.notify_all()
        self.first.set()
        if self.expect is not None and c == self.expect:
            self.hit_time = t
            self.hit.set()
        if self.sleep:
            time.sleep(self.sleep)

    def clear(self):
        with self.lock:
            for lst in (self.times, self.wall, self.counters, self.stamps):
                del lst[:]


def connect_and_subscribe(name, rec):
    from epics import ca
    ca.initialize_libca()
    chid = ca.create_channel(name, connect=True, auto_cb=False)
    if not ca.connect_channel(chid, timeout=10):
        raise RuntimeError('could not connect %s' % name)
    keep = ca.create_subscription(chid, use_time=True, callback=rec)
    if not rec.first.wait(10):
        raise RuntimeError('no initial monitor update')
    return ca, chid, keep


def do_sub(args):
    rec = Recorder()
    ca, chid, keep = connect_and_subscribe(args.pv, rec)
    time.sleep(0.3)
    rec.clear()    # forget the initial update(s)
    emit(event='ready')
    for words in commands():
        if words[0] == 'quit':
            break
        if words[0] != 'drain':
            continue
        target, idle = float(words[1]), float(words[2])
        with rec.cond:
            while True:
                if rec.counters and rec.counters[-1] >= target:
                    break
                n_before = len(rec.counters)
                rec.cond.wait(idle)
                if len(rec.counters) == n_before:
                    break
            times, counters = list(rec.times), list(rec.counters)
        emit(event='result', **sequence_summary(times, counters))
        break


def do_slow(args):
    rec = Recorder(sleep=args.sleep)
    ca, chid, keep = connect_and_subscribe(args.pv, rec)
    time.sleep(0.3)
    rec.clear()
    emit(event='ready')
    for words in commands():
        if words[0] == 'quit':
            break
        if words[0] != 'report':
            continue
        w0, w1 = float(words[1]), float(words[2])
        with rec.lock:
            rows = list(zip(rec.wall, rec.counters, rec.stamps))
        sel = [r for r in rows if w0 <= r[0] <= w1]
        age = [w - c for w, c, s in sel]              # receipt - element 0
        age_ts = [w - s for w, c, s in sel if s]      # receipt - CA timestamp
        emit(event='result', n_total=len(rows), n=len(sel),
             age_median=med(age), age_max=max(age) if age else None,
             age_p90=pct(age, 90) if age else None,
             age_ts_median=med(age_ts), age_ts_max=max(age_ts) if age_ts else None,
             first_age=age[0] if age else None, last_age=age[-1] if age else None)
        break


def do_lat(args):
    rec = Recorder()
    ca, chid, keep = connect_and_subscribe(args.pv, rec)
    base = float(random.randint(1, 1000) * 1e6)
    rtts = []
    timeouts = 0
    for i in range(1, args.n + args.warmup + 1):
        v = base + i
        rec.hit.clear()
        rec.expect = v
        t0 = time.monotonic()
        ca.put(chid, v, wait=False)
        if not rec.hit.wait(2.0):
            timeouts += 1
            continue
        if i > args.warmup:
            rtts.append(rec.hit_time - t0)
    emit(event='result', n=len(rtts), timeouts=timeouts,
         median=med(rtts), p99=pct(rtts, 99), p90=pct(rtts, 90),
         min=min(rtts) if rtts else None, max=max(rtts) if rtts else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['sub', 'slow', 'lat'])
    ap.add_argument('--pv', required=True)
    ap.add_argument('--n', type=int, default=300)
    ap.add_argument('--warmup', type=int, default=30)
    ap.add_argument('--sleep', type=float, default=0.05)
    args = ap.parse_args()
    try:
        {'sub': do_sub, 'slow': do_slow, 'lat': do_lat}[args.mode](args)
    except Exception as ex:
        import traceback
        emit(event='error', error=repr(ex), tb=traceback.format_exc())
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)   # skip libca teardown (a slow callback may still be sleeping)


if __name__ == '__main__':
    main()
