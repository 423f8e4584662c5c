#!/usr/bin/env python
"""Tango benchmark: ctlshell's tango:// client against bare pytango, same run.

Two device servers registered in the embedded SQLite Tango database, all on
127.0.0.1: a ctlshell test device server (CtlTestDevice, pytango) and Debian's C++
TangoTest (sys/tg_test/1; its reads are figure 1 again, as 'tangotest_...'). Each client kind runs in a child process of its
own (cli_tango.py), a fresh one per repetition; the order of kinds alternates.

Figures (per repetition, then medians; ratios ctlshell / bare, goal >= 0.9):
  1. reads/s: blocking reads of a double scalar and of a 64-double spectrum
     (ctlshell.get vs DeviceProxy.read_attribute), both clients alive at once and
     reading in alternating blocks (--blocks of --reads), so load from elsewhere on
     the machine hits both alike; median block rate per repetition. Twice: 'split'
     (device server on CPU 0, clients on CPU 1, like a device on another host) and
     'shared' (all on CPU 1: the shortest round trip, where the client's own cost
     weighs most). Unpinned, the scheduler picks either at random per block.
  2. event updates/s at a paced rate (--paced-rate for --paced-seconds): change
     events pushed by the device, received by ctlshell.monitor(policy=KeepLast(10**6),
     "keep every update") vs a bare subscribe_event callback; age = receipt - Tango
     timestamp.
  3. event flood: the device pushes --flood events as fast as it can; received/s,
     whether and when (lag after the push ended) the newest value arrived, and the
     age of what arrived in the second half: the bare client lags, ctlshell must not.
     Once with the keep-every-update policy, once with the default policy 'latest'.
  4. the same flood with a slow callback (--slow-sleep per update), policy 'latest'.

Results: bench/results/tango.json.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import Child, all_cpus, loadavg, med, pin  # noqa: E402

KINDS = ('bare', 'ctlshell')


def run_child(kind, url, env, log, lines):
    cli = Child(['cli_tango.py', kind, url], env, name='cli-' + kind, log_path=log)
    out = []
    try:
        cli.expect('ready', 60)
        for line, timeout in lines:
            cli.send(*line)
            out.append(cli.expect('result', timeout))
    finally:
        cli.stop()
    return out


#: Where the device server and the clients run while reading: on two cores (as with a
#: device on another host: the round trip wakes another core) and all on one core.
PLACEMENTS = {'split': ({0}, {1}), 'shared': ({1}, {1})}


def run_reads(url, env, log, attrs, blocks, n, server_pid, placement):
    """Both clients alive at once, reading in alternating blocks of ``n``, so a change of
    load on the machine hits both alike; the server and both clients pinned to the
    cores of ``placement``. Returns {kind: {attr: [block rate, ...]}}."""
    clis = {kind: Child(['cli_tango.py', kind, url], env, name='cli-' + kind, log_path=log) for kind in KINDS}
    rates = {kind: {attr: [] for attr in attrs} for kind in KINDS}
    server_cpus, client_cpus = PLACEMENTS[placement]
    try:
        for cli in clis.values():
            cli.expect('ready', 60)
        pin(server_pid, server_cpus)
        for cli in clis.values():
            pin(cli.pid, client_cpus)
        for attr in attrs:
            for block in range(blocks):
                for kind in (KINDS if block % 2 == 0 else KINDS[::-1]):
                    clis[kind].send('reads', attr, n)
                    rates[kind][attr].append(clis[kind].expect('result', 120)['per_s'])
    finally:
        pin(server_pid, all_cpus())
        for cli in clis.values():
            cli.stop()
    return rates


def fmt(value):
    return '      -' if value is None else f'{value:7.3f}'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--reads', type=int, default=500, help='reads per block')
    ap.add_argument('--blocks', type=int, default=8, help='alternating read blocks per client and repetition')
    ap.add_argument('--paced-rate', type=float, default=2000)
    ap.add_argument('--paced-seconds', type=float, default=2.0)
    ap.add_argument('--flood', type=int, default=40000)
    ap.add_argument('--slow-sleep', type=float, default=0.005)
    ap.add_argument('--reads-only', action='store_true', help='skip the event figures')
    ap.add_argument('--out', default=os.path.join(HERE, 'results', 'tango.json'))
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    log = os.path.join(os.path.dirname(args.out), 'tango_children.log')

    from ctlshell.testing import TangoDatabase, TangoServer, TangoTestServer, tango_env, tango_test_binary
    db = TangoDatabase().start()
    uid = uuid.uuid4().hex[:6]
    dev = f'bench/ctl{uid}/dev'
    srv = TangoServer(f'b{uid}', {dev: 'CtlTestDevice'}, database=db).start()
    url = f'tango://{db.host}/{dev}'
    tangotest = TangoTestServer(db, instance=f'b{uid}').start() if tango_test_binary() else None
    if tangotest is None:
        print('TangoTest is not installed (make tango-test): its figures are skipped', flush=True)
    env = tango_env(db.port)
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    paced_n = int(args.paced_rate * args.paced_seconds)
    plan = [
        (('events', paced_n, args.paced_rate, 0, 'all'), 120),
        (('events', args.flood, 0, 0, 'all'), 180),
        (('events', args.flood, 0, 0, 'latest'), 180),
        (('events', args.flood, 0, args.slow_sleep, 'latest'), 180),
    ]
    names = ['events_paced', 'events_flood', 'events_flood_latest', 'events_flood_slow']
    reads = {'read_scalar': 'double_scalar', 'read_spectrum': 'double_spectrum'}
    tt_reads = {'tangotest_read_scalar': 'double_scalar', 'tangotest_read_spectrum': 'double_spectrum_ro'}
    placements = list(PLACEMENTS) if len(all_cpus()) >= 2 else []
    targets = [(url, reads, srv)] + ([(tangotest.address(), tt_reads, tangotest)] if tangotest else [])
    read_names = [f'{name}_{where}' for where in placements for _, names_, _ in targets for name in names_]
    results = {k: {n: [] for n in [*read_names, *names]} for k in KINDS}
    print(f'Tango bench: {url}; loadavg {loadavg()}', flush=True)
    try:
        for rep in range(args.reps):
            for where, (target, target_reads, server) in [(w, t) for w in placements for t in targets]:
                rates = run_reads(target, env, log, list(target_reads.values()), args.blocks, args.reads,
                                  server.proc.pid, where)
                for name, attr in target_reads.items():
                    for kind in KINDS:
                        r = {'per_s': statistics.median(rates[kind][attr]),
                             'blocks': [round(x) for x in rates[kind][attr]], 'loadavg1': loadavg()[0]}
                        results[kind][f'{name}_{where}'].append(r)
                        print(f"rep{rep} {kind:8s} {name}_{where:7s} median of {args.blocks} blocks of "
                              f"{args.reads}: {r['per_s']:.0f}/s {r['blocks']}", flush=True)
            for kind in (KINDS if rep % 2 == 0 else KINDS[::-1]) if not args.reads_only else ():
                out = run_child(kind, url, env, log, plan)
                for name, r in zip(names, out):
                    r.pop('event', None)
                    r['loadavg1'] = loadavg()[0]
                    results[kind][name].append(r)
                    print(f'rep{rep} {kind:8s} {name:17s} ' + ' '.join(
                        f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}' for k, v in r.items()), flush=True)
    finally:
        srv.close()
        if tangotest is not None:
            tangotest.close()
        db.close()

    def median(kind, name, key):
        return med([r.get(key) for r in results[kind][name]])

    summary = {}
    print('\nSUMMARY (medians over repetitions; ratio = ctlshell / bare pytango)')
    for name, key in [*((n, 'per_s') for n in read_names), ('events_paced', 'recv_per_s'),
                      ('events_flood', 'recv_per_s'), ('events_flood_latest', 'recv_per_s'),
                      ('events_flood_slow', 'recv_per_s')]:
        b, c = median('bare', name, key), median('ctlshell', name, key)
        ratios = [rc.get(key) / rb.get(key) for rb, rc in zip(results['bare'][name], results['ctlshell'][name])
                  if rb.get(key) and rc.get(key) is not None]
        summary[name] = {'bare': b, 'ctlshell': c, 'ratio_median': statistics.median(ratios) if ratios else None}
        ratio = summary[name]['ratio_median'] or 0
        print(f'  {name:32s} {key:10s} bare {b or 0:9.0f}  ctlshell {c or 0:9.0f}  ratio {ratio:.2f}')
    for name in ('events_paced', 'events_flood', 'events_flood_latest', 'events_flood_slow'):
        for kind in KINDS:
            rs = results[kind][name]
            newest = sum(1 for r in rs if r.get('newest'))
            lag = med([r.get('lag_s') for r in rs])
            age = med([r.get('age_median') for r in rs])
            age99 = med([r.get('age_p99') for r in rs])
            summary[f'{name}_{kind}'] = {'newest_arrived': f'{newest}/{len(rs)}', 'lag_s': lag,
                                         'age_median_s': age, 'age_p99_s': age99}
            dropped = f"  dropped(info) {med([r.get('dropped') for r in rs])}" if kind == 'ctlshell' else ''
            print(f'  {name:18s} {kind:8s} newest arrived {newest}/{len(rs)}  lag {fmt(lag)} s'
                  f'  age median {fmt(age)} s  p99 {fmt(age99)} s{dropped}')
    with open(args.out, 'w') as f:
        json.dump({'args': vars(args), 'machine': platform.platform(), 'results': results, 'summary': summary,
                   'when': time.strftime('%Y-%m-%d %H:%M:%S')}, f, indent=1, default=str)
    print(f'\nwritten {args.out}')


if __name__ == '__main__':
    main()
