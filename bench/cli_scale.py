"""A client reading or monitoring N PVs <P>:0 .. <P>:N-1 (bench child of bench_scale.py).

--lib: ctlshell (ca://), ctlshell-pva (pva://), pyepics (caget_many / epics.PV
callbacks), p4p (Context.get([...]) / Context.monitor).

stdin commands:
  read                  read all once; 'read' with seconds and how many answered
  monitor               subscribe all; 'first' when every first value arrived
  measure SECONDS       count updates for SECONDS; 'measured' with updates, CPU, threads, RSS
  save PATH / restore PATH   snapshot of all (ctlshell: %pv snapshot's save/restore;
                        pyepics: caget_many / caput_many(wait='all'))
  quit
"""
import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import commands, cpu_seconds, emit, rss_mib  # noqa: E402


def threads():
    return len(os.listdir('/proc/self/task'))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lib', choices=['ctlshell', 'ctlshell-pva', 'pyepics', 'p4p'], required=True)
    ap.add_argument('--prefix', required=True)
    ap.add_argument('--n', type=int, required=True)
    ap.add_argument('--timeout', type=float, default=30.0)
    args = ap.parse_args()
    names = [f'{args.prefix}:{i}' for i in range(args.n)]
    lock = threading.Lock()
    seen = {}        # name -> last value
    counts = [0, 0]  # updates, out-of-order
    first = threading.Event()

    def on_value(name, value):
        with lock:
            old = seen.get(name)
            if old is not None and value < old:
                counts[1] += 1
            seen[name] = value
            counts[0] += 1
            if old is None and len(seen) == args.n:
                first.set()

    if args.lib.startswith('ctlshell'):
        import ctlshell
        from ctlshell.ipython import _snapshot
        ctlshell.configure(timeout=args.timeout)  # %pv snapshot uses the session's timeout
        scheme = 'pva' if args.lib == 'ctlshell-pva' else 'ca'
        addresses = [f'{scheme}://{n}' for n in names]
        plen = len(scheme) + 3

        def read():
            r = ctlshell.get_many(addresses, timeout=args.timeout)
            return len(r)

        def monitor():
            subs = ctlshell.monitor_many(addresses, lambda rd: on_value(rd.address[plen:], rd.value),
                                         policy=ctlshell.KeepLast(16), timeout=args.timeout)
            return subs

        def save(path):
            return len(_snapshot.save(path, addresses))

        def restore(path):
            return len(_snapshot.restore(path, addresses))
    elif args.lib == 'pyepics':
        import epics

        def read():
            values = epics.caget_many(names, timeout=args.timeout, connection_timeout=args.timeout)
            return sum(v is not None for v in values)

        def monitor():
            return [epics.PV(n, callback=lambda pvname=None, value=None, **kw: on_value(pvname, value),
                             auto_monitor=True) for n in names]

        def save(path):
            values = epics.caget_many(names, timeout=args.timeout, connection_timeout=args.timeout)
            with open(path, 'w') as f:
                json.dump({'values': dict(zip(names, values))}, f)
            return sum(v is not None for v in values)

        def restore(path):
            with open(path) as f:
                saved = json.load(f)['values']
            now = epics.caget_many(names, timeout=args.timeout, connection_timeout=args.timeout)
            differ = [(n, saved[n]) for n, v in zip(names, now) if v != saved[n] and saved[n] is not None]
            epics.caput_many([n for n, _ in differ], [v for _, v in differ], wait='all',
                             connection_timeout=args.timeout, put_timeout=args.timeout)
            return len(differ)
    else:
        from p4p.client.thread import Context
        ctx = Context('pva')

        def read():
            values = ctx.get(names, timeout=args.timeout, throw=False)
            return sum(not isinstance(v, Exception) for v in values)

        def monitor():
            return [ctx.monitor(n, (lambda n: lambda v: on_value(n, float(v)))(n)) for n in names]

        save = restore = None
    # every client loads its library, makes its context and opens its circuit to the
    # server before the clock starts: the figures compare the N channels, not imports
    t = time.monotonic()
    warm = f'{args.prefix}:warm'
    if args.lib.startswith('ctlshell'):
        ctlshell.get(f'{scheme}://{warm}', timeout=args.timeout)
    elif args.lib == 'pyepics':
        epics.caget(warm, timeout=args.timeout)
    else:
        ctx.get(warm, timeout=args.timeout)
    emit(event='ready', pid=os.getpid(), warm_up=time.monotonic() - t)
    _held = None
    for words in commands():
        cmd = words[0]
        if cmd == 'quit':
            break
        if cmd == 'read':
            t = time.monotonic()
            ok = read()
            emit(event='read', seconds=time.monotonic() - t, ok=ok, threads=threads(), rss=rss_mib(os.getpid()))
        elif cmd == 'monitor':
            t = time.monotonic()
            c0 = cpu_seconds(os.getpid())
            _held = monitor()  # the subscriptions live while it is bound
            got = first.wait(args.timeout * 4)
            emit(event='first', seconds=time.monotonic() - t, all=got, n=len(seen),
                 cpu=cpu_seconds(os.getpid()) - c0, threads=threads(), rss=rss_mib(os.getpid()))
        elif cmd == 'measure':
            seconds = float(words[1])
            with lock:
                u0 = counts[0]
            c0 = cpu_seconds(os.getpid())
            time.sleep(seconds)
            with lock:
                u1, ooo = counts[0], counts[1]
            emit(event='measured', updates=u1 - u0, cpu=cpu_seconds(os.getpid()) - c0, out_of_order=ooo,
                 threads=threads(), rss=rss_mib(os.getpid()))
        elif cmd in ('save', 'restore'):
            fn = save if cmd == 'save' else restore
            if fn is None:
                emit(event=cmd, seconds=None, n=0)
                continue
            t = time.monotonic()
            n = fn(words[1])
            emit(event=cmd, seconds=time.monotonic() - t, n=n)
        else:
            emit(event='error', error='unknown command %r' % words)
    sys.stdout.flush()
    os._exit(0)  # no teardown of N channels in the figures (or in the wait)


if __name__ == '__main__':
    main()
