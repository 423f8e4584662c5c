#!/usr/bin/env python
"""Facility scale (issue 18): N PVs hosted by one process, a client process reading,
monitoring and snapshotting all of them; ctlshell against libca (pyepics) and p4p,
as ratios measured in the same run.

Servers (srv_scale.py): ctlshell (``ctlshell.host`` x N, CA and PVA at once) and
pythonSoftIOC (N aOut records, CA) as the reference server. Clients (cli_scale.py,
a fresh process per measurement so connection set-up is part of every figure):
  read      ctlshell.get_many (ca:// or pva://) vs epics.caget_many vs p4p Context.get([...])
  monitor   ctlshell.monitor_many vs epics.PV callbacks vs p4p Context.monitor: time until
            every first value; then the server writes every PV once a second for
            --seconds and the client counts what arrives (CPU per update, threads, RSS)
  snapshot  %pv snapshot save / restore (ctlshell) vs caget_many / caput_many(wait='all')
Before each client starts, the server is let settle (``settle``): a client that has
just ended can leave the server clearing its N channels (and N subscriptions), work
that would otherwise fall on whichever measurement comes next.
Results: results/scale.json; the table shows ctlshell/reference ratios (< 1 is better).
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
from _common import Child, cpu_seconds, free_port_pair, loadavg  # noqa: E402

from ctlshell.testing import loopback_env  # noqa: E402

#: issue 18, acceptance 1 (at 10 000 PVs)
GOALS = {'read_ca': 1.2, 'read_pva': 1.2, 'first': 1.5, 'rss': 1.5, 'cpu_per_update': 1.5, 'save': 1.5,
         'threads_max': 16}
PAIRS = [('ca', 'ctlshell', 'pyepics'), ('pva', 'ctlshell-pva', 'p4p')]


def envs():
    ca = free_port_pair()
    pva = free_port_pair(avoid=[ca, ca + 1])
    env = loopback_env(ca_server_port=ca, ca_search_ports=[ca], pva_server_port=pva, pva_search_ports=[pva + 1])
    env['EPICS_CAS_BEACON_PORT'] = str(ca + 1)
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env['EPICS_CA_MAX_ARRAY_BYTES'] = '1000000'
    return env


def settle(server, most=20.0, step=0.5, quiet=0.05):
    """Wait (at most ``most`` s) until the server uses under ``quiet`` of a core over
    ``step`` s: the last client's channels and subscriptions are cleared. Returns the
    seconds waited."""
    t0 = time.monotonic()
    last = cpu_seconds(server.pid)
    while time.monotonic() - t0 < most:
        time.sleep(step)
        now = cpu_seconds(server.pid)
        if now - last < quiet * step:
            break
        last = now
    return time.monotonic() - t0


def client(lib, prefix, n, env, log, timeout, server=None):
    if server is not None:
        settle(server)
    cli = Child(['cli_scale.py', '--lib', lib, '--prefix', prefix, '--n', str(n), '--timeout', str(timeout)], env,
                name='cli-' + lib, log_path=log)
    cli.expect('ready', 60)
    return cli


def measure(server, lib, prefix, n, env, args, log):
    out = {}
    wait = args.timeout * 4 + 60
    cli = client(lib, prefix, n, env, log, args.timeout, server)
    try:
        cli.send('read')
        out['read'] = cli.expect('read', wait)
    finally:
        cli.stop()
    cli = client(lib, prefix, n, env, log, args.timeout, server)
    try:
        cli.send('monitor')
        out['first'] = cli.expect('first', wait)
        server.send('tick', args.seconds + 1)
        cli.send('measure', args.seconds)
        out['measured'] = cli.expect('measured', args.seconds + wait)
        ticked = server.expect('ticked', args.seconds + 60 + n / 20)  # a slow server's lag is a figure too
        out['server_behind'] = ticked.get('behind')
    finally:
        cli.stop()
    if lib in ('ctlshell', 'pyepics'):
        cli = client(lib, prefix, n, env, log, args.timeout, server)
        path = os.path.join(tempfile.gettempdir(), f'ctlshell-bench-scale-{uuid.uuid4().hex[:8]}.json')
        try:
            cli.send('save', path)
            out['save'] = cli.expect('save', wait)
            server.send('bump')
            server.expect('bumped', 60)
            cli.send('restore', path)
            out['restore'] = cli.expect('restore', wait)
        finally:
            cli.stop()
            if os.path.exists(path):
                os.unlink(path)
    m = out['measured']
    m['cpu_per_update_us'] = 1e6 * m['cpu'] / m['updates'] if m['updates'] else None
    print(f"  {lib:13} read {out['read']['seconds']:7.2f} s ({out['read']['ok']}/{n})  "
          f"first {out['first']['seconds']:6.2f} s  updates {m['updates']:6} "
          f"({m['cpu_per_update_us'] or 0:6.1f} us CPU each, server {out.get('server_behind') or 0:.1f} s late)  threads {m['threads']:4}  RSS {m['rss']:6.0f} MiB"
          + (f"  save {out['save']['seconds']:6.2f} s restore {out['restore']['seconds']:6.2f} s"
             if 'save' in out else ''), flush=True)
    return out


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, nargs='+', default=[1000, 5000, 10000])
    ap.add_argument('--seconds', type=float, default=10.0, help='monitor phase at 1 Hz (default 10)')
    ap.add_argument('--timeout', type=float, default=30.0)
    ap.add_argument('--servers', nargs='+', default=['ctlshell', 'softioc'], choices=['ctlshell', 'softioc'])
    ap.add_argument('--out', default=os.path.join(HERE, 'results', 'scale.json'))
    args = ap.parse_args()
    log = os.path.join(tempfile.gettempdir(), f'ctlshell-bench-scale-{os.getpid()}.log')
    results = {'host': platform.node(), 'load_before': loadavg(), 'runs': {}}
    print(f"load average before: {results['load_before']}; children's output: {log}", flush=True)
    for n in args.n:
        for server_kind in args.servers:
            env = envs()
            prefix = f'SC{uuid.uuid4().hex[:6]}'
            t = time.monotonic()
            srv = Child(['srv_scale.py', '--server', server_kind, '--prefix', prefix, '--n', str(n)], env,
                        name='srv-' + server_kind, log_path=log)
            try:
                ready = srv.expect('ready', 120 + n / 50)
                print(f"N={n} server {server_kind}: {n} PVs up in {ready['t_ready']:.1f} s "
                      f"(load {loadavg()[0]:.2f})", flush=True)
                run = {}
                for proto, ours, ref in PAIRS:
                    if proto == 'pva' and server_kind != 'ctlshell':
                        continue  # pythonSoftIOC is the CA reference server
                    run[ours] = measure(srv, ours, prefix, n, env, args, log)
                    run[ref] = measure(srv, ref, prefix, n, env, args, log)
                    a, b = run[ours], run[ref]
                    r = {
                        'read': ratio(a['read']['seconds'], b['read']['seconds']),
                        'first': ratio(a['first']['seconds'], b['first']['seconds']),
                        'rss': ratio(a['measured']['rss'], b['measured']['rss']),
                        'cpu_per_update': ratio(a['measured']['cpu_per_update_us'], b['measured']['cpu_per_update_us']),
                        'threads': (a['measured']['threads'], b['measured']['threads']),
                    }
                    if 'save' in a and 'save' in b:
                        r['save_vs_caget_many'] = ratio(a['save']['seconds'], b['read']['seconds'])
                        r['save'] = ratio(a['save']['seconds'], b['save']['seconds'])
                        r['restore'] = ratio(a['restore']['seconds'], b['restore']['seconds'])
                    run[f'ratios_{proto}'] = r
                    print(f"  ratios {ours}/{ref}: " + ", ".join(
                        f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()), flush=True)
            finally:
                srv.stop()
            run['seconds'] = time.monotonic() - t
            run['load_after'] = loadavg()
            results['runs'][f'{n}/{server_kind}'] = run
    results['load_after'] = loadavg()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(results, f, indent=1)
    print(f"load average after: {results['load_after']}; results in {args.out}")


if __name__ == '__main__':
    main()
