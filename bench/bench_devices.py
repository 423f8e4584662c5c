#!/usr/bin/env python
"""Device / daemon benchmark of ctlshell, as ratios against a bare caproto
PVGroup measured in the same run.

Servers (each in its own child process, on its own loopback port, fresh for
every repetition, order rotated between repetitions):
  ctlshell  srv_devices_ctlshell.py: ctlshell.host() of an mKTL-style Daemon
            (item SET: validate + req_set record the value) and of a Device
            (DevicePV VALUE; its run() thread pushes with self.push(VALUE=n))
  caproto   srv_devices_caproto.py: caproto PVGroup, asyncio server; SET has a
            @putter recording the value; VALUE's startup hook creates
            async_lib.ThreadsafeQueue(), a threading.Thread calls queue.put(n)
            and the hook loops `await instance.write(await queue.async_get())`
Client: cli_devices.py (pyepics / libca, low-level epics.ca), a fresh process
per measurement.

Figures
  1. req_set round trip: --n sequential puts with completion callback (libca's
     ca_array_put_callback through ctypes) to SET after --warmup, each timed
     until the put-callback answer.  Median, p90, p99.
     Ratio caproto/ctlshell of the medians (> 1: ctlshell is faster).
  1b. read-through round trip (mKTL: a client's get reaches the daemon): --n
     sequential gets of GET, an item whose req_refresh counts the reads (ctlshell)
     or a pvproperty whose @getter does the same (caproto); each timed until its
     answer; `fresh` says every read saw a new value.  Ratio caproto/ctlshell of
     the medians (>= 1: ctlshell at least as fast).
  2. push throughput into a monitor: the device thread pushes a counter for
     --seconds at each of --rates (pushes/s; 0 = as fast as it can); a
     monitor client counts updates.  push/s achieved by the device thread,
     recv/s = received / (last receipt - push start), whether the final
     counter arrived, lag = last receipt - end of pushing, and (ctlshell)
     push_dropped.  Ratios ctlshell/caproto of push/s and recv/s.

Results: bench/results/devices.json; children's chatter: devices_children.log.
"""
import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import Child, ca_env, cpu_seconds, free_port_pair, loadavg, med  # noqa: E402

#: how long the pusher sleeps when it is ahead of a fixed rate, s
PACE_SLEEP = 0.0005


# --------------------------------------------------------------------------
# shared with the server children (they import these)
# --------------------------------------------------------------------------
def push_loop(push_one, rate, seconds):
    """Call push_one(1.0), push_one(2.0), ... for `seconds`: at `rate` per second
    (sleeping PACE_SLEEP while ahead), or as fast as possible when rate <= 0."""
    n = 0
    t_start = time.monotonic()
    t_end = t_start + seconds
    now = t_start
    while now < t_end:
        if rate > 0 and n >= (now - t_start) * rate:
            time.sleep(PACE_SLEEP)
        else:
            n += 1
            push_one(float(n))
        now = time.monotonic()
    return dict(n=n, t_start=t_start, t_stop=now, rate=n / (now - t_start), target_rate=rate)


def wait_for(predicate, timeout, poll=0.001):
    """monotonic time at which predicate() became true, or None after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return time.monotonic()
        if time.monotonic() > deadline:
            return None
        time.sleep(poll)


# --------------------------------------------------------------------------
# orchestrator
# --------------------------------------------------------------------------
SERVERS = {
    'ctlshell': lambda rep: ['srv_devices_ctlshell.py', '--prefix', 'BDCTL%d:' % rep],
    'caproto': lambda rep: ['srv_devices_caproto.py', '--prefix', 'BDCAP%d:' % rep],
    # not in the default --servers:
    # the item declared blocking = False: validate/req_set run on the server loop
    'ctlshell-inline': lambda rep: ['srv_devices_ctlshell.py', '--prefix', 'BDINL%d:' % rep, '--inline'],
}


def rotate(seq, k):
    k %= len(seq)
    return seq[k:] + seq[:k]


def fmt(v, spec):
    return '-' if v is None else format(v, spec)


def source_state():
    try:
        from bench_ca import source_state as ss
        return ss()
    except Exception as ex:  # the CA bench changed: not essential here
        return {'summary': 'unknown (%r)' % ex}


def run_putcb(srv, env, pv, args, log):
    before = srv_stats(srv)
    cli = Child(['cli_devices.py', 'putcb', '--pv', pv, '--n', str(args.n),
                 '--warmup', str(args.warmup), '--method', args.method],
                env, name='cli-putcb', log_path=log)
    try:
        c0 = cpu_seconds(srv.pid)
        res = cli.expect('result', 60 + 5 * (args.n + args.warmup))
        c1 = cpu_seconds(srv.pid)
    finally:
        cli.stop()
    after = srv_stats(srv)
    res.pop('event')
    res['applied'] = after['applied'] - before['applied']
    res['srv_cpu_us_per_put'] = 1e6 * (c1 - c0) / max(1, res['puts'])
    res['all_applied'] = res['applied'] == res['puts']
    res['final_ok'] = res['final_readback'] == res['final_expected']
    return res


def run_get(srv, env, pv, args, log):
    cli = Child(['cli_devices.py', 'get', '--pv', pv, '--n', str(args.n), '--warmup', str(args.warmup)],
                env, name='cli-get', log_path=log)
    try:
        c0 = cpu_seconds(srv.pid)
        res = cli.expect('result', 60 + 5 * (args.n + args.warmup))
        c1 = cpu_seconds(srv.pid)
    finally:
        cli.stop()
    res.pop('event')
    res['srv_cpu_us_per_get'] = 1e6 * (c1 - c0) / max(1, res['gets'])
    return res


def srv_stats(srv):
    srv.send('stats')
    return srv.expect('stats', 30)


def run_push(srv, env, pv, rate, args, log):
    cli = Child(['cli_devices.py', 'sub', '--pv', pv], env, name='cli-sub', log_path=log)
    try:
        cli.expect('ready', 60)
        c0s, c0c = cpu_seconds(srv.pid), cpu_seconds(cli.pid)
        srv.send('push', rate, args.seconds)
        pushed = srv.expect('pushed', args.seconds + 90)
        waited = time.monotonic() - pushed['t_stop']
        cli.send('drain', pushed['n'], args.idle, max(1.0, args.max_wait - waited))
        res = cli.expect('result', args.max_wait + args.idle + 60)
        c1s, c1c = cpu_seconds(srv.pid), cpu_seconds(cli.pid)
    finally:
        cli.stop()
    n = res['n']
    final = bool(n) and res['last'] == pushed['n']
    return {
        'rate_target': rate, 'pushed': pushed['n'], 'push_rate': pushed['rate'],
        'push_dropped': pushed.get('push_dropped'),
        'backlog_at_stop': pushed.get('backlog_at_stop'),
        'server_final_s': (pushed['t_server_final'] - pushed['t_stop'])
        if pushed.get('t_server_final') else None,
        'received': n,
        'recv_rate': n / (res['t_last'] - pushed['t_start']) if n else 0.0,
        'final_arrived': final, 'last_counter': res['last'], 'timed_out': res['timed_out'],
        'lag_s': (res['t_last'] - pushed['t_stop']) if n else None,
        'lost': (int(res['gaps'] + res['first'] - 1 + pushed['n'] - res['last'])
                 if n else pushed['n']),
        'dup': res['dup'], 'out_of_order': res['out_of_order'],
        'srv_cpu_s': c1s - c0s,
        'cli_cpu_us_per_update': 1e6 * (c1c - c0c) / n if n else None,
    }


def rate_label(rate):
    return 'max' if rate <= 0 else '%g/s' % rate


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--n', type=int, default=300, help='timed puts per round-trip run')
    ap.add_argument('--warmup', type=int, default=30)
    ap.add_argument('--method', choices=['libca', 'pyepics'], default='libca',
                    help='libca: ca_array_put_callback via ctypes; pyepics: ca.put(wait=True)')
    ap.add_argument('--seconds', type=float, default=2.0, help='pushing time per throughput run')
    ap.add_argument('--rates', default='20000,0',
                    help='push rates per second, comma separated; 0 = as fast as possible')
    ap.add_argument('--idle', type=float, default=3.0,
                    help='monitor client stops waiting after this many silent seconds')
    ap.add_argument('--max-wait', type=float, default=20.0,
                    help='monitor client waits at most this long after pushing ends')
    ap.add_argument('--servers', default='ctlshell,caproto')
    ap.add_argument('--out', default=os.path.join(HERE, 'results', 'devices.json'))
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(',')]
    # as-fast-as-possible last: a server left with a backlog (caproto's queue is
    # unbounded) would delay what follows
    rates = [r for r in rates if r > 0] + [r for r in rates if r <= 0]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    log = os.path.join(os.path.dirname(args.out), 'devices_children.log')
    servers = args.servers.split(',')

    info = {'python': platform.python_version(), 'platform': platform.platform(),
            'cpus': os.cpu_count(), 'loadavg_at_start': loadavg(),
            'args': vars(args), 'child_log': log}
    from importlib.metadata import version
    for pkg in ('caproto', 'pyepics', 'numpy', 'ctlshell'):
        try:
            info[pkg] = version(pkg)
        except Exception:
            info[pkg] = None
    info['ctlshell_source'] = source_state()
    print('ctlshell source: %s' % info['ctlshell_source']['summary'], flush=True)
    print('loadavg at start: %s' % info['loadavg_at_start'], flush=True)

    runs, errors, used_ports = [], [], []
    t_begin = time.time()
    for rep in range(args.reps):
        for server in rotate(servers, rep):
            port = free_port_pair(avoid=used_ports)
            used_ports += [port, port + 1]
            env = ca_env(port)
            srv = Child(SERVERS[server](rep), env, name='srv-' + server, log_path=log)
            try:
                ready = srv.expect('ready', 120)
                tests = [('putcb', None), ('get', None)] + [('push', r) for r in rates]
                for kind, rate in tests:
                    la = loadavg()[0]
                    try:
                        if kind == 'putcb':
                            r = run_putcb(srv, env, ready['pvs']['set'], args, log)
                            line = ('n %d median %s ms p90 %s p99 %s  applied %d/%d final %s timeouts %d'
                                    % (r['n'], fmt(r['median'] and 1e3 * r['median'], '.3f'),
                                       fmt(r['p90'] and 1e3 * r['p90'], '.3f'),
                                       fmt(r['p99'] and 1e3 * r['p99'], '.3f'),
                                       r['applied'], r['puts'], r['final_ok'], r['timeouts']))
                        elif kind == 'get':
                            r = run_get(srv, env, ready['pvs']['get'], args, log)
                            line = ('n %d median %s ms p90 %s p99 %s  every read fresh %s'
                                    % (r['n'], fmt(1e3 * r['median'], '.3f'), fmt(1e3 * r['p90'], '.3f'),
                                       fmt(1e3 * r['p99'], '.3f'), r['fresh']))
                        else:
                            r = run_push(srv, env, ready['pvs']['value'], rate, args, log)
                            line = ('pushed %7d (%7.0f/s) dropped %s recv %6d = %7.0f/s final %s lag %s s'
                                    % (r['pushed'], r['push_rate'], r['push_dropped'], r['received'],
                                       r['recv_rate'], r['final_arrived'], fmt(r['lag_s'], '.3f')))
                    except Exception as ex:
                        r, line = {'error': repr(ex)[:2000]}, 'FAILED: %s' % repr(ex)[:300]
                        errors.append('rep %d %s %s %s: %s' % (rep, server, kind, rate, repr(ex)[:300]))
                    r.update(rep=rep, server=server, kind=kind, rate=rate, port=port, loadavg=la)
                    runs.append(r)
                    print('rep %d %-8s %-5s %-7s %s' % (rep, server, kind,
                                                        rate_label(rate) if rate is not None else '',
                                                        line), flush=True)
            except Exception as ex:
                errors.append('rep %d %s: %s' % (rep, server, repr(ex)[:300]))
                print('rep %d %-8s FAILED: %s' % (rep, server, repr(ex)[:300]), flush=True)
            finally:
                rc = srv.stop()
                if rc not in (0, None):
                    print('  (server %s exited with %s)' % (server, rc), flush=True)

    summary = summarize([r for r in runs if 'error' not in r], servers, rates)
    info['errors'] = errors
    info['elapsed_s'] = time.time() - t_begin
    info['loadavg_at_end'] = loadavg()
    with open(args.out, 'w') as f:
        json.dump({'info': info, 'summary': summary, 'runs': runs}, f, indent=1, sort_keys=True)
    print_table(summary, args, rates)
    print('\nctlshell source: %s' % info['ctlshell_source']['summary'])
    for e in errors:
        print('ERROR: %s' % e)
    print('JSON: %s   (%.0f s, %d cpus, loadavg %s -> %s)' % (
        os.path.relpath(args.out), info['elapsed_s'], os.cpu_count(),
        info['loadavg_at_start'], info['loadavg_at_end']))


def summarize(runs, servers, rates):
    def sel(server, kind, rate=None):
        return [r for r in runs if r['server'] == server and r['kind'] == kind
                and (rate is None or r['rate'] == rate)]

    s = {'putcb': {}, 'get': {}, 'push': {}, 'ratios': {}}
    for server in servers:
        rs = sel(server, 'get')
        if rs:
            s['get'][server] = {k + '_ms': 1e3 * med([r[k] for r in rs]) for k in ('median', 'p90', 'p99')}
            s['get'][server].update(srv_cpu_us_per_get=med([r['srv_cpu_us_per_get'] for r in rs]),
                                    fresh='%d/%d' % (sum(r['fresh'] for r in rs), len(rs)), reps=len(rs))
        rs = sel(server, 'putcb')
        if rs:
            s['putcb'][server] = {
                k + '_ms': 1e3 * med([r[k] for r in rs]) for k in ('median', 'p90', 'p99', 'min', 'max')}
            s['putcb'][server].update(
                median_ms_range=[1e3 * min(r['median'] for r in rs), 1e3 * max(r['median'] for r in rs)],
                srv_cpu_us_per_put=med([r['srv_cpu_us_per_put'] for r in rs]),
                all_applied='%d/%d' % (sum(r['all_applied'] for r in rs), len(rs)),
                timeouts=sum(r['timeouts'] for r in rs), reps=len(rs))
        for rate in rates:
            rs = sel(server, 'push', rate)
            if rs:
                s['push']['%s|%s' % (server, rate_label(rate))] = {
                    'push_rate': med([r['push_rate'] for r in rs]),
                    'recv_rate': med([r['recv_rate'] for r in rs]),
                    'recv_rate_range': [min(r['recv_rate'] for r in rs), max(r['recv_rate'] for r in rs)],
                    'final_arrived': '%d/%d' % (sum(r['final_arrived'] for r in rs), len(rs)),
                    'lag_s': med([r['lag_s'] for r in rs]),
                    'server_final_s': med([r['server_final_s'] for r in rs]),
                    'push_dropped': med([r['push_dropped'] for r in rs]),
                    'backlog_at_stop': med([r['backlog_at_stop'] for r in rs]),
                    'lost_frac': med([r['lost'] / r['pushed'] for r in rs if r['pushed']]),
                    'cli_cpu_us_per_update': med([r['cli_cpu_us_per_update'] for r in rs]),
                    'srv_cpu_s': med([r['srv_cpu_s'] for r in rs]),
                    'reps': len(rs)}

    def per_rep_ratio(key, num, den, kind, rate=None):
        vals = []
        for rep in sorted({r['rep'] for r in runs}):
            a = [r for r in sel(num, kind, rate) if r['rep'] == rep]
            b = [r for r in sel(den, kind, rate) if r['rep'] == rep]
            if a and b and a[0][key] and b[0][key]:
                vals.append(a[0][key] / b[0][key])
        if vals:
            return {'median': med(vals), 'per_rep': vals}
        return None

    if 'caproto' in servers:
        for name in [x for x in servers if x != 'caproto']:
            for key in ('median', 'p99'):
                r = per_rep_ratio(key, 'caproto', name, 'putcb')
                if r:
                    s['ratios']['putcb %s caproto/%s (>1: %s faster)' % (key, name, name)] = r
                r = per_rep_ratio(key, 'caproto', name, 'get')
                if r:
                    s['ratios']['get through %s caproto/%s (>1: %s faster)' % (key, name, name)] = r
            for rate in rates:
                for key in ('push_rate', 'recv_rate'):
                    r = per_rep_ratio(key, name, 'caproto', 'push', rate)
                    if r:
                        s['ratios']['push %s %s %s/caproto' % (rate_label(rate), key, name)] = r
    return s


def print_table(s, args, rates):
    print('\n=== 1. req_set round trip: %d puts with completion callback (%s) after %d warm-up ==='
          % (args.n, args.method, args.warmup))
    print('%-18s %10s %9s %9s %9s %20s %14s %8s' % ('server', 'median ms', 'p90 ms', 'p99 ms', 'max ms',
                                                  'median range ms', 'srv cpu us/put', 'applied'))
    for server, p in s['putcb'].items():
        print('%-18s %10.3f %9.3f %9.3f %9.3f %20s %14.0f %8s' % (
            server, p['median_ms'], p['p90_ms'], p['p99_ms'], p['max_ms'],
            '[%.3f-%.3f]' % tuple(p['median_ms_range']), p['srv_cpu_us_per_put'], p['all_applied']))
    print('\n=== 1b. read-through round trip: %d gets, each through req_refresh / @getter ===' % args.n)
    print('%-18s %10s %9s %9s %14s %8s' % ('server', 'median ms', 'p90 ms', 'p99 ms', 'srv cpu us/get', 'fresh'))
    for server, p in s['get'].items():
        print('%-18s %10.3f %9.3f %9.3f %14.0f %8s' % (server, p['median_ms'], p['p90_ms'], p['p99_ms'],
                                                      p['srv_cpu_us_per_get'], p['fresh']))
    print('\n=== 2. push queue -> monitor: device thread pushes a counter for %g s ===' % args.seconds)
    print('%-18s %7s %10s %10s %10s %7s %8s %10s %9s %7s %7s' % (
        'server', 'rate', 'push/s', 'recv/s', 'dropped', 'final', 'lag s', 'srv-final', 'backlog',
        'lost%', 'cli us'))
    for rate in rates:
        for key, p in s['push'].items():
            server, label = key.split('|')
            if label != rate_label(rate):
                continue
            print('%-18s %7s %10.0f %10.0f %10s %7s %8s %10s %9s %7.1f %7s' % (
                server, label, p['push_rate'], p['recv_rate'], fmt(p['push_dropped'], '.0f'),
                p['final_arrived'], fmt(p['lag_s'], '.3f'), fmt(p['server_final_s'], '.3f'),
                fmt(p['backlog_at_stop'], '.0f'), 100 * (p['lost_frac'] or 0),
                fmt(p['cli_cpu_us_per_update'], '.0f')))
    print('  lag = last monitor update - end of pushing; srv-final = when the server PV held the'
          ' final counter; backlog = queued at the end of pushing')
    print('\n=== ratios (median of per-repetition ratios) ===')
    for k, r in s['ratios'].items():
        print('%-70s %8s   per rep %s' % (k, fmt(r['median'], '.3f'),
                                          ' '.join('%.3f' % x for x in r['per_rep'])))


if __name__ == '__main__':
    main()
