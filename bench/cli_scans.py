#!/usr/bin/env python
"""Scan bench child: one way of scanning, run --reps times after one warm-up run.

  cli_scans.py VARIANT --prefix P --n N --reps R [--data-dir D]
VARIANT: ctlshell (ctlshell.scans signals, live table off), ctlshell-nexus (the same,
every run recorded to NeXus), ophyd-async (plain ophyd-async EPICS signals), loop (a
hand-written ctlshell put(wait=True)/get loop). Scans <P>A (movable) and reads <P>B.
Emits {"event": "result", "seconds": [...]} (wall time of each timed run).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import emit  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('variant', choices=['ctlshell', 'ctlshell-nexus', 'ophyd-async', 'loop'])
    ap.add_argument('--prefix', required=True)
    ap.add_argument('--n', type=int, default=200)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--data-dir', default=None)
    args = ap.parse_args()
    a, b = args.prefix + 'A', args.prefix + 'B'
    positions = list(range(args.n))  # the simple IOC's A and B are integers
    seconds = []
    if args.variant == 'loop':
        import ctlshell
        for rep in range(args.reps + 1):
            t0 = time.perf_counter()
            for x in positions:
                ctlshell.put(a, x, wait=True)
                ctlshell.get(b)
            if rep:
                seconds.append(time.perf_counter() - t0)
        emit(event='result', seconds=seconds)
        return
    from bluesky import plans as bp
    if args.variant == 'ophyd-async':
        from bluesky import RunEngine
        from bluesky.run_engine import call_in_bluesky_event_loop
        from ophyd_async.epics.core import epics_signal_r, epics_signal_rw
        RE = RunEngine({})
        mot = epics_signal_rw(int, 'ca://' + a, name='A')
        det = epics_signal_r(int, 'ca://' + b, name='B')
        for dev in (mot, det):
            call_in_bluesky_event_loop(dev.connect(timeout=10))
    else:
        import ctlshell.scans as scans
        RE = scans.run_engine()
        scans._feedback.table = False   # the plain RunEngine above prints nothing either
        mot, det = scans.signal(a), scans.signal(b)
        recorder = scans.record_runs(data_dir=args.data_dir) if args.variant == 'ctlshell-nexus' else None
    for rep in range(args.reps + 1):
        t0 = time.perf_counter()
        RE(bp.list_scan([det], mot, positions))
        if rep:
            seconds.append(time.perf_counter() - t0)
    if args.variant == 'ctlshell-nexus':
        scans.stop_recording(recorder)
    emit(event='result', seconds=seconds)


if __name__ == '__main__':
    main()
