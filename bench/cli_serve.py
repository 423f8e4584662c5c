"""One of many CA clients monitoring N PVs <P>:0 .. <P>:N-1 (bench child of bench_serve.py).

pyepics low-level subscriptions (DBR_TIME, as most clients ask): each update's age is
its receipt time minus its server timestamp.

stdin commands:
  monitor      subscribe all; 'first' once every first value arrived
  report LAST  'report': updates, ages (median, p99, max) of updates since the last
               report, and how many PVs hold LAST
  quit
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import commands, emit, pct  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--prefix', required=True)
    ap.add_argument('--n', type=int, required=True)
    ap.add_argument('--timeout', type=float, default=60.0)
    args = ap.parse_args()
    from epics import ca
    names = [f'{args.prefix}:{i}' for i in range(args.n)]
    lock = threading.Lock()
    last = {}
    ages = []
    first = threading.Event()

    def cb(pvname=None, value=None, timestamp=None, **kw):
        now = time.time()
        with lock:
            new = pvname not in last
            last[pvname] = value
            ages.append(now - timestamp)
            if new and len(last) == args.n:
                first.set()

    keep = []
    emit(event='ready', pid=os.getpid())
    for words in commands():
        if words[0] == 'quit':
            break
        if words[0] == 'monitor':
            start = time.monotonic()
            chids = [ca.create_channel(n, connect=False, auto_cb=False) for n in names]
            for chid in chids:
                ca.connect_channel(chid, timeout=args.timeout)
            for chid in chids:
                keep.append(ca.create_subscription(chid, callback=cb, use_time=True))
            ok = first.wait(args.timeout)
            emit(event='first', seconds=time.monotonic() - start, ok=ok, have=len(last))
            with lock:
                ages.clear()
        elif words[0] == 'report':
            want = float(words[1])
            with lock:
                seen, ages[:] = list(ages), []
                holding = sum(1 for v in last.values() if v == want)
            emit(event='report', updates=len(seen), median=pct(seen, 50) if seen else None,
                 p99=pct(seen, 99) if seen else None, max=max(seen) if seen else None, holding=holding)
        else:
            emit(event='error', error='unknown command %r' % words)
    sys.stdout.flush()
    os._exit(0)


if __name__ == '__main__':
    main()
