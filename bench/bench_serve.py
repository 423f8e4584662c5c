#!/usr/bin/env python
"""Scale of the hosted CA server (issue 19, acceptance 4): N PVs hosted by one process,
each written once a second, K CA client processes monitoring all of them; ctlshell
against pythonSoftIOC, as ratios measured in the same run.

Server: srv_scale.py (ctlshell: ``ctlshell.host`` x N, served on CA and PVA; softioc:
N aOut records). Clients: cli_serve.py (pyepics low-level DBR_TIME subscriptions).
Figures, over --seconds of 1 Hz writes after every client has every first value:
server CPU % (user + system of all its threads), server RSS, and the age of every
update the clients received (receipt - server timestamp): median, p99, max; and how
many PVs each client holds the last value of, 2 s after the last write.
On a 2-core machine K clients' callbacks cost more CPU than either server: read the
ratios, and the ages of both servers, together. Results: results/serve.json.
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from _common import Child, cpu_seconds, loadavg, rss_mib  # noqa: E402
from bench_scale import envs  # noqa: E402

#: issue 19, acceptance 4
GOALS = {'cpu': 3.0, 'rss': 2.0, 'max_age_s': 2.0}


def fmt(x, digits=3):
    return 'n/a' if x is None else f'{x:.{digits}f}'


def run(server, n, clients, seconds, timeout, log):
    env = envs()
    prefix = f'SV{uuid.uuid4().hex[:6]}'
    srv = Child(['srv_scale.py', '--server', server, '--prefix', prefix, '--n', str(n)], env,
                name='srv-' + server, log_path=log)
    clis = []
    try:
        ready = srv.expect('ready', 120 + n / 50)
        clis = [Child(['cli_serve.py', '--prefix', prefix, '--n', str(n), '--timeout', str(timeout)], env,
                      name=f'cli{k}', log_path=log) for k in range(clients)]
        for c in clis:
            c.expect('ready', 60)
        start = time.monotonic()
        for c in clis:
            c.send('monitor')
        firsts = [c.expect('first', timeout * 3 + 60) for c in clis]
        t_first = time.monotonic() - start
        time.sleep(1.0)
        cpu0, t0 = cpu_seconds(srv.pid), time.monotonic()
        srv.send('tick', seconds)
        ticked = srv.expect('ticked', seconds * 3 + 60)
        cpu = (cpu_seconds(srv.pid) - cpu0) / (time.monotonic() - t0)
        rss = rss_mib(srv.pid)
        time.sleep(2.0)
        for c in clis:
            c.send('report', ticked['last'])
        reports = [c.expect('report', 60) for c in clis]
    finally:
        for c in clis:
            c.stop()
        srv.stop()
    ages = [r for r in reports if r['updates']]
    out = {
        'n': n, 'clients': clients, 't_ready': ready['t_ready'], 'first_s': t_first,
        'first_ok': all(f['ok'] for f in firsts), 'cpu_pct': 100 * cpu, 'rss_mib': rss,
        'behind_s': ticked['behind'],
        'updates': sum(r['updates'] for r in reports),
        'expected': n * clients * int(seconds),
        'age_median_s': max((r['median'] for r in ages), default=None),
        'age_p99_s': max((r['p99'] for r in ages), default=None),
        'age_max_s': max((r['max'] for r in ages), default=None),
        'holding_last': min(r['holding'] for r in reports) if reports else 0,
    }
    print(f"{server:9s} N={n} x {clients} clients: server CPU {out['cpu_pct']:.0f} %, RSS {rss:.0f} MiB, "
          f"writes behind 1 Hz by {out['behind_s']:.2f} s; updates {out['updates']} of {out['expected']}; "
          f"age median {fmt(out['age_median_s'])} p99 {fmt(out['age_p99_s'])} max {fmt(out['age_max_s'])} s; "
          f"last value held on {out['holding_last']}/{n} PVs (worst client)", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=10000)
    ap.add_argument('--clients', type=int, default=20)
    ap.add_argument('--seconds', type=float, default=10.0)
    ap.add_argument('--timeout', type=float, default=60.0)
    ap.add_argument('--servers', nargs='+', default=['ctlshell', 'softioc'], choices=['ctlshell', 'softioc'])
    ap.add_argument('--out', default=os.path.join(HERE, 'results', 'serve.json'))
    args = ap.parse_args()
    log = os.path.join(tempfile.gettempdir(), f'ctlshell-bench-serve-{os.getpid()}.log')
    results = {'host': platform.node(), 'load_before': loadavg(), 'runs': {}}
    print(f"load average before: {results['load_before']}; children's output: {log}", flush=True)
    for server in args.servers:
        results['runs'][server] = run(server, args.n, args.clients, args.seconds, args.timeout, log)
    a, b = results['runs'].get('ctlshell'), results['runs'].get('softioc')
    if a and b:
        r = {'cpu': a['cpu_pct'] / b['cpu_pct'] if b['cpu_pct'] else None,
             'rss': a['rss_mib'] / b['rss_mib'] if b['rss_mib'] else None}
        results['ratios'] = r
        print(f"ratios ctlshell/softioc: server CPU {fmt(r['cpu'], 2)} (goal <= {GOALS['cpu']}), "
              f"RSS {fmt(r['rss'], 2)} (goal <= {GOALS['rss']}); max age ctlshell {fmt(a['age_max_s'])} s, "
              f"softioc {fmt(b['age_max_s'])} s (goal < {GOALS['max_age_s']} s)")
    results['load_after'] = loadavg()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(results, f, indent=1)
    print(f"load average after: {results['load_after']}; results in {args.out}")


if __name__ == '__main__':
    main()
