#!/usr/bin/env python
"""PV Access benchmark of ctlshell's pva:// client, as ratios against raw p4p in the
same run, directly and through the p4p gateway (method of anchors/epics/bench_pva.py).

Upstream server: p4p Server + thread.SharedPV (srv_p4p.py), a poster in its main
thread.  Gateway: the real p4p.gw, started with ctlshell.gateway's Gateway class on
ports of its own (the upstream is then not searched by the client).  Clients
(cli_pva.py, a fresh process per measurement): raw p4p thread Context, or ctlshell
(ctlshell.monitor / ctlshell.put).

Figures
  1. throughput: updates/s delivered to the client while the server posts a counter
     (scalar double, or element 0 of a 1000-double waveform) as fast as it can for
     --seconds; received/s = received / (last receipt - post start).
     Ratio ctlshell/raw (goal >= 0.9), ctlshell keeping every update like raw p4p's
     callback; and for ctlshell's default policy 'latest' (squashes by design).
  2. put -> monitor latency: a put, then the time until the monitor callback sees the
     value; --lat-n puts after --lat-warmup.  Ratio raw/ctlshell of the medians (goal
     >= 0.9, i.e. ctlshell at most ~11 % slower).
  3. gateway overhead: gw/direct of received/s and of the latency median, per client.
Ratios are taken per repetition and their median printed.  Results: results/pva.json.
"""
import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from _common import Child, cpu_seconds, free_port_pair, loadavg, med  # noqa: E402
from bench_ca import rotate, source_state  # noqa: E402

from ctlshell.gateway import Gateway, GatewayConfig  # noqa: E402
from ctlshell.testing import loopback_env  # noqa: E402

GOALS = {'tp_ratio_raw': 0.9, 'lat_ratio_raw': 0.9}
#: 'ctlshell' keeps every update (KeepLast(1000)) like raw p4p's callback, which is
#: called with every update it pops; 'ctlshell-latest' is the default policy of a
#: display (only throughput: the callback sees the newest, the rest is counted dropped)
LIBS = ['raw', 'ctlshell', 'ctlshell-latest']
PATHS = ['direct', 'gw']


def client_env(search_port):
    env = loopback_env(pva_search_ports=[search_port])
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    return env


def run_tp(srv, env, lib, pv, which, seconds, idle, log):
    cli = Child(['cli_pva.py', 'sub', '--lib', lib, '--pv', pv], env, name='cli-sub-' + lib, log_path=log)
    try:
        ready = cli.expect('ready', 60)
        c0 = cpu_seconds(cli.pid)
        srv.send('post', which, seconds)
        posted = srv.expect('posted', seconds + 60)
        cli.send('drain', posted['n'], idle)
        res = cli.expect('result', idle + 120)
        c1 = cpu_seconds(cli.pid)
    finally:
        cli.stop()
    n = res['n']
    return {'posted': posted['n'], 'post_rate': posted['rate'], 'received': n,
            'recv_rate': n / (res['t_last'] - posted['t_start']) if n else 0.0,
            'final_arrived': bool(n) and res['last'] == posted['n'],
            'lag_s': (res['t_last'] - posted['t_stop']) if n else None,
            'cli_cpu_us_per_update': 1e6 * (c1 - c0) / n if n else None,
            'connect_s': ready.get('connect_s')}


def run_lat(env, lib, pv, n, warmup, log):
    cli = Child(['cli_pva.py', 'lat', '--lib', lib, '--pv', pv, '--n', str(n), '--warmup', str(warmup)],
                env, name='cli-lat-' + lib, log_path=log)
    try:
        res = cli.expect('result', 60 + 2.5 * (n + warmup))
    finally:
        cli.stop()
    res.pop('event')
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seconds', type=float, default=3.0)
    ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--idle', type=float, default=10.0)
    ap.add_argument('--lat-n', type=int, default=300)
    ap.add_argument('--lat-warmup', type=int, default=30)
    ap.add_argument('--out', default=os.path.join(HERE, 'results', 'pva.json'))
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    log = os.path.join(os.path.dirname(args.out), 'pva_children.log')
    info = {'python': sys.version.split()[0], 'machine': platform.machine(), 'cpus': os.cpu_count(),
            'loadavg_start': loadavg(), 'ctlshell': source_state(), 'args': vars(args),
            'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}
    print('ctlshell measured:', info['ctlshell']['summary'])
    runs = []
    for rep in range(args.reps):
        up = free_port_pair()
        gwp = free_port_pair(avoid=[up, up + 1])
        prefix = 'BPVA%d:' % rep
        srv = Child(['srv_p4p.py', '--prefix', prefix], loopback_env(pva_server_port=up), name='srv-p4p',
                    log_path=log)
        gw = Gateway(GatewayConfig(upstream=['127.0.0.1:%d' % (up + 1)], server_port=gwp,
                                   broadcast_port=gwp + 1, status_prefix=''))
        try:
            srv.expect('ready', 30)
            gw.start()
            for path in rotate(PATHS, rep):
                env = client_env(up + 1 if path == 'direct' else gwp + 1)
                for lib in rotate(LIBS, rep):
                    for which in ('scalar', 'wave'):
                        try:
                            r = run_tp(srv, env, lib, prefix + which, which, args.seconds, args.idle, log)
                        except RuntimeError as exc:  # recorded, and the run goes on
                            runs.append({'rep': rep, 'kind': 'tp', 'path': path, 'lib': lib, 'pv': which,
                                         'failed': str(exc)[:300]})
                            print('rep %d %-6s %-15s tp  %-6s FAILED %s' % (rep, path, lib, which, exc), flush=True)
                            continue
                        r.update(rep=rep, kind='tp', path=path, lib=lib, pv=which)
                        runs.append(r)
                        print('rep %d %-6s %-15s tp  %-6s posted %7.0f/s recv %6.0f/s final %-5s cpu %5.0f us/upd '
                              'first update %.2f s'
                              % (rep, path, lib, which, r['post_rate'], r['recv_rate'], r['final_arrived'],
                                 r['cli_cpu_us_per_update'] or 0, r['connect_s'] or 0), flush=True)
                    if lib == 'ctlshell-latest':
                        continue
                    try:
                        r = run_lat(env, lib, prefix + 'lat', args.lat_n, args.lat_warmup, log)
                    except RuntimeError as exc:
                        runs.append({'rep': rep, 'kind': 'lat', 'path': path, 'lib': lib, 'pv': 'lat',
                                     'failed': str(exc)[:300]})
                        print('rep %d %-6s %-8s lat FAILED %s' % (rep, path, lib, exc), flush=True)
                        continue
                    r.update(rep=rep, kind='lat', path=path, lib=lib, pv='lat')
                    runs.append(r)
                    print('rep %d %-6s %-8s lat median %6.0f us p99 %6.0f us timeouts %d'
                          % (rep, path, lib, 1e6 * (r['median'] or 0), 1e6 * (r['p99'] or 0), r['timeouts']),
                          flush=True)
        finally:
            gw.close()
            srv.stop()
    summary = summarize(runs, args.reps)
    info['loadavg_end'] = loadavg()
    with open(args.out, 'w') as f:
        json.dump({'info': info, 'goals': GOALS, 'summary': summary, 'runs': runs}, f, indent=1)
    print_summary(summary)
    print('results:', args.out)


def summarize(runs, reps):
    def one(rep, kind, path, lib, pv, key):
        for r in runs:
            if (r['rep'], r['kind'], r['path'], r['lib'], r['pv']) == (rep, kind, path, lib, pv):
                return r.get(key)
        return None

    def ratio(a, b):
        return a / b if a is not None and b else None

    out = {'medians': {}, 'ratios': {}, 'failed': sum(1 for r in runs if 'failed' in r)}
    for path in PATHS:
        for lib in LIBS:
            for pv in ('scalar', 'wave'):
                out['medians']['%s/%s/tp/%s' % (path, lib, pv)] = med(
                    [one(k, 'tp', path, lib, pv, 'recv_rate') for k in range(reps)])
                out['medians']['%s/%s/cpu_us/%s' % (path, lib, pv)] = med(
                    [one(k, 'tp', path, lib, pv, 'cli_cpu_us_per_update') for k in range(reps)])
            for key in ('median', 'p99') if lib != 'ctlshell-latest' else ():
                out['medians']['%s/%s/lat_%s_us' % (path, lib, key)] = med(
                    [1e6 * one(k, 'lat', path, lib, 'lat', key) for k in range(reps)
                     if one(k, 'lat', path, lib, 'lat', key) is not None])
        for lib in LIBS[1:]:
            for pv in ('scalar', 'wave'):
                out['ratios']['%s: tp %s/raw %s' % (path, lib, pv)] = med(
                    [ratio(one(k, 'tp', path, lib, pv, 'recv_rate'), one(k, 'tp', path, 'raw', pv, 'recv_rate'))
                     for k in range(reps)])
        out['ratios']['%s: latency raw/ctlshell (median)' % path] = med(
            [ratio(one(k, 'lat', path, 'raw', 'lat', 'median'), one(k, 'lat', path, 'ctlshell', 'lat', 'median'))
             for k in range(reps)])
    for lib in LIBS:
        for pv in ('scalar', 'wave'):
            out['ratios']['gateway %s: tp gw/direct %s' % (lib, pv)] = med(
                [ratio(one(k, 'tp', 'gw', lib, pv, 'recv_rate'), one(k, 'tp', 'direct', lib, pv, 'recv_rate'))
                 for k in range(reps)])
        if lib == 'ctlshell-latest':
            continue
        out['ratios']['gateway %s: latency gw/direct (median)' % lib] = med(
            [ratio(one(k, 'lat', 'gw', lib, 'lat', 'median'), one(k, 'lat', 'direct', lib, 'lat', 'median'))
             for k in range(reps)])
    return out


def print_summary(s):
    print('\nmedians over repetitions')
    for key, value in s['medians'].items():
        print('  %-36s %s' % (key, '-' if value is None else '%.0f' % value))
    print('\nfailed measurements: %d' % s['failed'])
    print('\nratios (median of per-repetition ratios; goal >= 0.9 for ctlshell/raw)')
    for key, value in s['ratios'].items():
        print('  %-44s %s' % (key, '-' if value is None else '%.3f' % value))


if __name__ == '__main__':
    main()
