"""PVA client child of bench_pva.py, one process per measurement.

  cli_pva.py sub --lib raw|ctlshell --pv NAME     counts updates and counter gaps
  cli_pva.py lat --lib raw|ctlshell --pv NAME     put -> monitor round trips

raw:      p4p.client.thread.Context, default pvRequest and NT wrappers (the
          anchors' client); puts with the blocking ctx.put.
ctlshell: ctlshell.monitor("pva://NAME", cb, policy=KeepLast(1000)): every update
          reaches the callback, as with raw p4p's; ctlshell.put("pva://NAME", v)
          (returns when the server acknowledged).
ctlshell-latest: the same with the default policy 'latest' (a display: the callback
          gets the newest value, intermediate ones are dropped and counted).
Same protocol as cli_ca.py (the Recorder is shared).
"""
import argparse
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import WAVE_N, commands, emit, med, pct, sequence_summary  # noqa: E402
from cli_ca import Recorder  # noqa: E402


class Raw:
    def __init__(self):
        from p4p.client.thread import Context
        self.ctx = Context('pva')

    def monitor(self, name, rec):
        def cb(value):
            if not isinstance(value, Exception):
                rec(value)
        return self.ctx.monitor(name, cb)

    def put(self, name, value):
        self.ctx.put(name, value)

    def close(self):
        self.ctx.close()


class Ctlshell:
    def __init__(self, policy):
        import ctlshell
        self.cs = ctlshell
        self.policy = ctlshell.KeepLast(1000) if policy == 'all' else policy

    def monitor(self, name, rec):
        return self.cs.monitor('pva://' + name, lambda r: rec(r.value) if r.connected else None,
                               policy=self.policy)

    def put(self, name, value):
        self.cs.put('pva://' + name, value)

    def close(self):
        self.cs.shutdown()


def first_update(lib, name, rec):
    """Subscribe; the seconds until the first update (None: none within FIRST_WAIT)."""
    t0 = time.monotonic()
    sub = lib.monitor(name, rec)
    if not rec.first.wait(FIRST_WAIT):
        emit(event='error', error='no initial monitor update within %s s' % FIRST_WAIT)
        return sub, None
    return sub, time.monotonic() - t0


FIRST_WAIT = 20.0


def do_sub(lib, args):
    rec = Recorder()
    sub, connect_s = first_update(lib, args.pv, rec)
    if connect_s is None:
        return
    time.sleep(0.3)
    rec.clear()
    emit(event='ready', connect_s=connect_s)
    for words in commands():
        if words[0] == 'quit':
            break
        if words[0] != 'drain':
            continue
        target, idle = float(words[1]), float(words[2])
        with rec.cond:
            while not (rec.counters and rec.counters[-1] >= target):
                n_before = len(rec.counters)
                rec.cond.wait(idle)
                if len(rec.counters) == n_before:
                    break
            times, counters = list(rec.times), list(rec.counters)
        emit(event='result', **sequence_summary(times, counters))
        break
    sub.close()


def do_lat(lib, args):
    rec = Recorder()
    sub, connect_s = first_update(lib, args.pv, rec)
    if connect_s is None:
        return
    is_wave = args.pv.endswith('latw')
    base = float(random.randint(1, 1000) * 1e6)
    buf = np.zeros(WAVE_N)
    rtts, timeouts = [], 0
    for i in range(1, args.n + args.warmup + 1):
        v = base + i
        if is_wave:
            buf = buf.copy()
            buf[0] = v
        rec.hit.clear()
        rec.expect = v
        t0 = time.monotonic()
        lib.put(args.pv, buf if is_wave else v)
        if not rec.hit.wait(2.0):
            timeouts += 1
            continue
        if i > args.warmup:
            rtts.append(rec.hit_time - t0)
    emit(event='result', n=len(rtts), timeouts=timeouts, connect_s=connect_s, median=med(rtts), p99=pct(rtts, 99),
         p90=pct(rtts, 90), min=min(rtts) if rtts else None, max=max(rtts) if rtts else None)
    sub.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['sub', 'lat'])
    ap.add_argument('--lib', choices=['raw', 'ctlshell', 'ctlshell-latest'], required=True)
    ap.add_argument('--pv', required=True)
    ap.add_argument('--n', type=int, default=300)
    ap.add_argument('--warmup', type=int, default=30)
    args = ap.parse_args()
    lib = Raw() if args.lib == 'raw' else Ctlshell('latest' if args.lib == 'ctlshell-latest' else 'all')
    try:
        {'sub': do_sub, 'lat': do_lat}[args.mode](lib, args)
    except Exception as ex:
        import traceback
        emit(event='error', error=repr(ex), tb=traceback.format_exc())
    finally:
        lib.close()
    sys.stdout.flush()


if __name__ == '__main__':
    main()
