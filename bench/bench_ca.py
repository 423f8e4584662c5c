#!/usr/bin/env python
"""CA benchmark of ctlshell's hosted server, as ratios against reference
servers measured in the same run.

Servers (each in its own child process, on its own loopback port):
  ctlshell  ctlshell.host() PVs; poster in the main thread sets pv.value
            (non-blocking, coalesced)
  caproto   bare caproto PVGroup, asyncio server in a background thread;
            poster: run_coroutine_threadsafe(prop.write(v), loop).result()
  softioc   pythonSoftIOC aOut / WaveformOut; poster: record.set(v)
Client: pyepics low-level epics.ca.create_subscription (DBR_TIME), in its own
process (fresh for every measurement).

Figures
  1. throughput: updates/s delivered to the client while the server posts a
     counter (scalar double, or element 0 of a 1000-double waveform) as fast
     as it can for --seconds; received/s = received / (last receipt - post
     start).  Also: did the final counter arrive, and lag (last receipt -
     post end).  Ratios ctlshell/caproto (goal >= 0.9) and ctlshell/softioc.
  2. slow-client age: the client callback sleeps 50 ms; the server posts the
     waveform continuously with element 0 = time.time(); age = receipt time
     - element 0 for values received in the second half of the posting
     period.  Median and max (goal for ctlshell: median < 0.5 s).
  3. put -> monitor latency: ca.put(wait=False) then wait for the monitor
     callback to see the value; --lat-n puts after --lat-warmup warm-up
     puts.  Median and p99 (goal for ctlshell: median <= 1.5 ms).

Every repetition starts a fresh server of each kind (order rotated between
repetitions) and runs all figures against it.  Results: bench/results/ca.json.
"""
import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import (Child, ca_env, cpu_seconds, free_port_pair, loadavg,  # noqa: E402
                     med)

SERVERS = {
    # name: rep -> (argv, PV prefix, extra environment)
    'ctlshell': lambda rep: (['srv_ctlshell.py', '--prefix', 'BCTL%d:' % rep], 'BCTL%d:' % rep, {}),
    'caproto': lambda rep: (['srv_caproto.py', '--prefix', 'BCAP%d:' % rep], 'BCAP%d:' % rep, {}),
    'softioc': lambda rep: (['srv_softioc.py', '--prefix', 'BSIOC%d' % rep], 'BSIOC%d:' % rep, {}),
    # diagnostic variants (not in the default --servers): ctlshell with caproto's
    # 10 ms subscription batching window off; ctlshell whose poster releases the
    # GIL (time.sleep(0)) after every post; ctlshell with a 0.5 ms GIL switch
    # interval (Python's default is 5 ms); yield + the hosted server's circuit
    # pacing switched off (monkeypatched in the child, ctlshell is not edited)
    'ctlshell-hlt0': lambda rep: (['srv_ctlshell.py', '--prefix', 'BCTLZ%d:' % rep], 'BCTLZ%d:' % rep,
                                  {'CAPROTO_SERVER_HIGH_LOAD_TIMEOUT_SEC': '0'}),
    'ctlshell-yield': lambda rep: (['srv_ctlshell.py', '--prefix', 'BCTLY%d:' % rep,
                                    '--yield-every', '1'], 'BCTLY%d:' % rep, {}),
    'ctlshell-si': lambda rep: (['srv_ctlshell.py', '--prefix', 'BCTLS%d:' % rep,
                                 '--switch-interval', '0.0005'], 'BCTLS%d:' % rep, {}),
    'ctlshell-yield-nopace': lambda rep: (['srv_ctlshell.py', '--prefix', 'BCTLN%d:' % rep,
                                           '--yield-every', '1', '--no-pace'], 'BCTLN%d:' % rep, {}),
    'caproto-hlt0': lambda rep: (['srv_caproto.py', '--prefix', 'BCAPZ%d:' % rep], 'BCAPZ%d:' % rep,
                                 {'CAPROTO_SERVER_HIGH_LOAD_TIMEOUT_SEC': '0'}),
}
GOALS = {'tp_ratio_caproto': 0.9, 'age_median_s': 0.5, 'lat_median_ms': 1.5}


def rotate(seq, k):
    k %= len(seq)
    return seq[k:] + seq[:k]


def run_tp(srv, env, pv, which, seconds, idle, log):
    cli = Child(['cli_ca.py', 'sub', '--pv', pv], env, name='cli-sub', log_path=log)
    try:
        cli.expect('ready', 60)
        c0s, c0c = cpu_seconds(srv.pid), cpu_seconds(cli.pid)
        srv.send('post', which, seconds)
        posted = srv.expect('posted', seconds + 60)
        cli.send('drain', posted['n'], idle)
        res = cli.expect('result', idle + 120)
        c1s, c1c = cpu_seconds(srv.pid), cpu_seconds(cli.pid)
    finally:
        cli.stop()
    n = res['n']
    return {
        'posted': posted['n'], 'post_rate': posted['rate'], 'received': n,
        'recv_rate': n / (res['t_last'] - posted['t_start']) if n else 0.0,
        'final_arrived': bool(n) and res['last'] == posted['n'],
        'last_counter': res['last'],
        'lag_s': (res['t_last'] - posted['t_stop']) if n else None,
        'lost': (int(res['gaps'] + res['first'] - 1 + posted['n'] - res['last'])
                 if n else posted['n']),
        'dup': res['dup'], 'out_of_order': res['out_of_order'],
        'srv_cpu_s': c1s - c0s,
        'cli_cpu_us_per_update': 1e6 * (c1c - c0c) / n if n else None,
    }


def run_age(srv, env, pv, seconds, sleep, log):
    cli = Child(['cli_ca.py', 'slow', '--pv', pv, '--sleep', str(sleep)], env,
                name='cli-slow', log_path=log)
    try:
        cli.expect('ready', 60)
        srv.send('post', 'age', seconds)
        posted = srv.expect('posted', seconds + 60)
        w_mid = posted['w_start'] + (posted['w_stop'] - posted['w_start']) / 2
        cli.send('report', w_mid, posted['w_stop'])
        res = cli.expect('result', 60)
    finally:
        cli.stop()
    res.pop('event')
    res.update(posted=posted['n'], post_rate=posted['rate'])
    return res


def run_lat(env, pv, n, warmup, log):
    cli = Child(['cli_ca.py', 'lat', '--pv', pv, '--n', str(n), '--warmup', str(warmup)],
                env, name='cli-lat', log_path=log)
    try:
        res = cli.expect('result', 60 + 2.5 * (n + warmup))
    finally:
        cli.stop()
    res.pop('event')
    return res


def source_state():
    """Which ctlshell was measured: git HEAD plus a hash of the working-tree
    ctlshell/ sources (the package may have uncommitted changes)."""
    import hashlib
    import subprocess
    root = os.path.dirname(HERE)
    out = {}
    try:
        out['head'] = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=root,
                                     capture_output=True, text=True, timeout=10).stdout.strip()
        out['modified'] = subprocess.run(['git', 'status', '--porcelain', '--', 'ctlshell'], cwd=root,
                                         capture_output=True, text=True, timeout=10).stdout.split('\n')
        out['modified'] = [m.strip() for m in out['modified'] if m.strip()]
    except (OSError, subprocess.SubprocessError):
        pass
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(os.path.join(root, 'ctlshell'))):
        dirnames.sort()
        for fn in sorted(filenames):
            if fn.endswith('.py'):
                path = os.path.join(dirpath, fn)
                h.update(os.path.relpath(path, root).encode())
                with open(path, 'rb') as f:
                    h.update(f.read())
    out['tree_sha256'] = h.hexdigest()[:12]
    out['summary'] = 'HEAD %s, ctlshell/*.py sha256 %s, uncommitted: %s' % (
        out.get('head', '?'), out['tree_sha256'], ', '.join(out.get('modified') or []) or 'none')
    return out


def run_test(srv, env, kind, pv, which, args, age_seconds, log):
    if kind == 'tp':
        r = run_tp(srv, env, pv, which, args.seconds, args.idle, log)
        line = ('posted %7d (%7.0f/s) recv %6d = %7.0f/s final %s lag %6.3f s'
                % (r['posted'], r['post_rate'], r['received'], r['recv_rate'],
                   r['final_arrived'], r['lag_s'] if r['lag_s'] is not None else -1))
    elif kind == 'age':
        r = run_age(srv, env, pv, age_seconds, args.slow_sleep, log)
        line = ('posted %6.0f/s, %d seen in 2nd half, age median %s s max %s s'
                % (r['post_rate'], r['n'], fmt(r['age_median'], '.3f'), fmt(r['age_max'], '.3f')))
    else:
        r = run_lat(env, pv, args.lat_n, args.lat_warmup, log)
        line = ('n %d timeouts %d median %s ms p99 %s ms'
                % (r['n'], r['timeouts'], fmt(r['median'] and 1e3 * r['median'], '.3f'),
                   fmt(r['p99'] and 1e3 * r['p99'], '.3f')))
    return r, line


def fmt(v, spec):
    return '-' if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--seconds', type=float, default=3.0,
                    help='posting time per throughput run (default 3)')
    ap.add_argument('--reps', type=int, default=2)
    ap.add_argument('--age-seconds', type=float, default=None,
                    help='posting time of the slow-client run (default 2 x --seconds)')
    ap.add_argument('--slow-sleep', type=float, default=0.05)
    ap.add_argument('--idle', type=float, default=5.0,
                    help='throughput client stops waiting after this many silent seconds')
    ap.add_argument('--lat-n', type=int, default=300)
    ap.add_argument('--lat-warmup', type=int, default=30)
    ap.add_argument('--servers', default='ctlshell,caproto,softioc')
    ap.add_argument('--age-servers', default='ctlshell,caproto')
    ap.add_argument('--out', default=os.path.join(HERE, 'results', 'ca.json'))
    args = ap.parse_args()
    age_seconds = args.age_seconds or 2 * args.seconds
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    log = os.path.join(os.path.dirname(args.out), 'ca_children.log')
    servers = args.servers.split(',')
    age_servers = [s for s in args.age_servers.split(',') if s in servers]

    info = {'python': platform.python_version(), 'platform': platform.platform(),
            'cpus': os.cpu_count(), 'loadavg_at_start': loadavg(),
            'args': vars(args), 'child_log': log}
    try:
        from importlib.metadata import version
        for pkg in ('caproto', 'pyepics', 'softioc', 'numpy', 'ctlshell'):
            try:
                info[pkg] = version(pkg)
            except Exception:
                info[pkg] = None
    except ImportError:
        pass

    info['ctlshell_source'] = source_state()
    print('ctlshell source: %s' % info['ctlshell_source']['summary'], flush=True)
    runs = []
    errors = []
    t_begin = time.time()
    used_ports = []
    for rep in range(args.reps):
        for server in rotate(servers, rep):
            port = free_port_pair(avoid=used_ports)
            used_ports += [port, port + 1]
            env = ca_env(port)
            argv, prefix, srv_env = SERVERS[server](rep)
            srv = Child(argv, dict(env, **srv_env), name='srv-' + server, log_path=log)
            try:
                srv.expect('ready', 120)
                tests = rotate([('tp', 'scalar'), ('tp', 'wave'), ('lat', 'lat')], rep)
                if server in age_servers:
                    # always last: a server left with a backlog for a slow client
                    # (bare caproto) may not serve the next client promptly
                    tests.append(('age', 'agew'))
                for kind, pv in tests:
                    la = loadavg()[0]
                    try:
                        r, line = run_test(srv, env, kind, prefix + pv, pv, args, age_seconds, log)
                    except Exception as ex:   # record and go on with the next test
                        r, line = {'error': repr(ex)[:2000]}, 'FAILED: %s' % repr(ex)[:300]
                        errors.append('rep %d %s %s %s: %s' % (rep, server, kind, pv, repr(ex)[:300]))
                    r.update(rep=rep, server=server, kind=kind, pv=pv, port=port, loadavg=la)
                    runs.append(r)
                    print('rep %d %-8s %-3s %-6s %s' % (rep, server, kind, pv, line), flush=True)
            except Exception as ex:
                errors.append('rep %d %s: %s' % (rep, server, repr(ex)[:300]))
                print('rep %d %-8s FAILED: %s' % (rep, server, repr(ex)[:300]), flush=True)
            finally:
                rc = srv.stop()
                if rc not in (0, None):
                    print('  (server %s exited with %s)' % (server, rc), flush=True)

    runs_ok = [r for r in runs if 'error' not in r]
    summary = summarize(runs_ok, servers, age_servers)
    info['errors'] = errors
    info['elapsed_s'] = time.time() - t_begin
    info['loadavg_at_end'] = loadavg()
    with open(args.out, 'w') as f:
        json.dump({'info': info, 'goals': GOALS, 'summary': summary, 'runs': runs},
                  f, indent=1, sort_keys=True)
    print_table(summary, args, age_seconds)
    print('\nctlshell source: %s' % info['ctlshell_source']['summary'])
    for e in errors:
        print('ERROR: %s' % e)
    print('JSON: %s   (%.0f s, loadavg %s -> %s)' % (
        os.path.relpath(args.out), info['elapsed_s'], info['loadavg_at_start'][0],
        info['loadavg_at_end'][0]))


def summarize(runs, servers, age_servers):
    def sel(server, kind, pv):
        return [r for r in runs if (r['server'], r['kind'], r['pv']) == (server, kind, pv)]

    def by_rep(server, kind, pv, key):
        return {r['rep']: r[key] for r in sel(server, kind, pv)}

    s = {'throughput': {}, 'age': {}, 'latency': {}, 'ratios': {}}
    for server in servers:
        for pv in ('scalar', 'wave'):
            rs = sel(server, 'tp', pv)
            if rs:
                s['throughput']['%s|%s' % (server, pv)] = {
                    'recv_rate': med([r['recv_rate'] for r in rs]),
                    'recv_rate_min': min(r['recv_rate'] for r in rs),
                    'recv_rate_max': max(r['recv_rate'] for r in rs),
                    'post_rate': med([r['post_rate'] for r in rs]),
                    'lag_s': med([r['lag_s'] for r in rs]),
                    'final_arrived': '%d/%d' % (sum(r['final_arrived'] for r in rs), len(rs)),
                    'lost_frac': med([r['lost'] / r['posted'] for r in rs]),
                    'cli_cpu_us_per_update': med([r['cli_cpu_us_per_update'] for r in rs]),
                    'reps': len(rs)}
        rs = sel(server, 'lat', 'lat')
        if rs:
            s['latency'][server] = {
                'median_ms': 1e3 * med([r['median'] for r in rs if r['median'] is not None] or [float('nan')]),
                'p99_ms': 1e3 * med([r['p99'] for r in rs if r['p99'] is not None] or [float('nan')]),
                'median_ms_range': [1e3 * min(r['median'] for r in rs), 1e3 * max(r['median'] for r in rs)],
                'timeouts': sum(r['timeouts'] for r in rs), 'reps': len(rs)}
    for server in age_servers:
        rs = sel(server, 'age', 'agew')
        if rs:
            s['age'][server] = {
                'age_median_s': med([r['age_median'] for r in rs]),
                'age_max_s': max((r['age_max'] for r in rs if r['age_max'] is not None), default=None),
                'age_ts_median_s': med([r['age_ts_median'] for r in rs]),
                'seen_2nd_half': med([r['n'] for r in rs]),
                'post_rate': med([r['post_rate'] for r in rs]), 'reps': len(rs)}
    # ratios: per repetition (same rep = same conditions), then the median
    for ref in servers:
        if ref == 'ctlshell' or 'ctlshell' not in servers:
            continue
        for pv in ('scalar', 'wave'):
            a = by_rep('ctlshell', 'tp', pv, 'recv_rate')
            b = by_rep(ref, 'tp', pv, 'recv_rate')
            per = [a[k] / b[k] for k in sorted(a) if k in b and b[k]]
            s['ratios']['tp|%s|ctlshell/%s' % (pv, ref)] = {'median': med(per), 'per_rep': per}
        a = by_rep('ctlshell', 'lat', 'lat', 'median')
        b = by_rep(ref, 'lat', 'lat', 'median')
        per = [a[k] / b[k] for k in sorted(a) if k in b and a[k] and b[k]]
        s['ratios']['lat_median|ctlshell/%s' % ref] = {'median': med(per), 'per_rep': per}
        if ref in age_servers and 'ctlshell' in age_servers:
            a = by_rep('ctlshell', 'age', 'agew', 'age_median')
            b = by_rep(ref, 'age', 'agew', 'age_median')
            per = [a[k] / b[k] for k in sorted(a) if k in b and a[k] and b[k]]
            s['ratios']['age_median|ctlshell/%s' % ref] = {'median': med(per), 'per_rep': per}
    return s


def print_table(s, args, age_seconds):
    print('\n=== 1. throughput to a pyepics (ca.create_subscription) monitor, %.0f s posting, '
          'median of %d reps ===' % (args.seconds, args.reps))
    print('%-14s %-6s %10s %10s %15s %7s %8s %7s %9s' % (
        'server', 'pv', 'posted/s', 'recv/s', '[min-max]', 'final', 'lag s', 'lost%', 'cliCPUus'))
    for k, t in s['throughput'].items():
        server, pv = k.split('|')
        print('%-14s %-6s %10.0f %10.0f %15s %7s %8s %7.1f %9s' % (
            server, pv, t['post_rate'], t['recv_rate'],
            '[%.0f-%.0f]' % (t['recv_rate_min'], t['recv_rate_max']), t['final_arrived'],
            fmt(t['lag_s'], '.3f'), 100 * t['lost_frac'], fmt(t['cli_cpu_us_per_update'], '.0f')))
    print('\n=== 2. slow client (callback sleeps %.0f ms), 1000-double waveform, %.0f s posting: '
          'age of values seen in the 2nd half ===' % (1e3 * args.slow_sleep, age_seconds))
    print('%-14s %10s %12s %12s %14s %10s' % ('server', 'posted/s', 'age med s', 'age max s',
                                           'ts-age med s', 'seen'))
    for server, a in s['age'].items():
        print('%-14s %10.0f %12s %12s %14s %10s' % (
            server, a['post_rate'], fmt(a['age_median_s'], '.3f'), fmt(a['age_max_s'], '.3f'),
            fmt(a['age_ts_median_s'], '.3f'), fmt(a['seen_2nd_half'], '.0f')))
    print('\n=== 3. put -> monitor latency, pyepics ca.put(wait=False), %d puts after %d warm-up ==='
          % (args.lat_n, args.lat_warmup))
    print('%-14s %11s %11s %20s %9s' % ('server', 'median ms', 'p99 ms', 'median range ms', 'timeouts'))
    for server, lat in s['latency'].items():
        print('%-14s %11.3f %11.3f %20s %9d' % (
            server, lat['median_ms'], lat['p99_ms'],
            '[%.3f-%.3f]' % tuple(lat['median_ms_range']), lat['timeouts']))
    print('\n=== ratios (median of per-repetition ratios) and goals ===')
    for k, r in s['ratios'].items():
        goal = ''
        if k.startswith('tp|') and k.endswith('/caproto'):
            goal = '  goal >= %.1f: %s' % (GOALS['tp_ratio_caproto'],
                                          'MET' if (r['median'] or 0) >= GOALS['tp_ratio_caproto'] else 'NOT MET')
        print('%-44s %8s   per rep %s%s' % (k, fmt(r['median'], '.3f'),
                                           ' '.join('%.3f' % x for x in r['per_rep']), goal))
    a = s['age'].get('ctlshell')
    if a and a['age_median_s'] is not None:
        print('%-44s %8.3f s  goal < %.1f s: %s' % ('age median ctlshell', a['age_median_s'],
                                                  GOALS['age_median_s'],
                                                  'MET' if a['age_median_s'] < GOALS['age_median_s'] else 'NOT MET'))
    lat = s['latency'].get('ctlshell')
    if lat:
        print('%-44s %8.3f ms goal <= %.1f ms: %s' % ('latency median ctlshell', lat['median_ms'],
                                                     GOALS['lat_median_ms'],
                                                     'MET' if lat['median_ms'] <= GOALS['lat_median_ms'] else 'NOT MET'))


if __name__ == '__main__':
    main()
