#!/usr/bin/env python
"""Scan benchmark: the per-point cost of a --n point scan through ctlshell.scans, as
ratios against plain ophyd-async devices on the same IOC and a hand-written
put(wait=True)/get loop, measured in the same run; and what recording every run to
NeXus adds.

IOC: caproto's ``simple`` example (A, B) in a child process on a loopback port of its
own. Each variant runs in a fresh client process (cli_scans.py): one warm-up scan,
then --reps timed scans; the figure is the median per-point time.

Goals (issue 20): ctlshell/ophyd-async <= 1.2; NeXus recording adds <= 10 %.
Results: bench/results/scans.json.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import Child, ca_env, free_port_pair, loadavg, med  # noqa: E402

from ctlshell.core import stop_process  # noqa: E402

VARIANTS = ['ctlshell', 'ophyd-async', 'loop', 'ctlshell-nexus']


def start_ioc(prefix, env):
    from ctlshell.testing import child_command
    proc = subprocess.Popen(child_command('-m', 'caproto.ioc_examples.simple', '--prefix', prefix,
                                          '--interfaces', '127.0.0.1'),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if 'Server startup complete' in line or time.monotonic() > deadline:
            break
    return proc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=200)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--out', default=os.path.join(HERE, 'results', 'scans.json'))
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    log = os.path.join(os.path.dirname(args.out), 'scans_children.log')
    port = free_port_pair()
    env = ca_env(port)
    prefix = 'BSCAN%d:' % os.getpid()
    scratch = tempfile.mkdtemp(prefix='ctlshell-bench-scans-')
    env['CTLSHELL_SCANS_MD'] = os.path.join(scratch, 'scans.json')
    ioc = start_ioc(prefix, env)
    results, t_begin = {}, time.time()
    print('loadavg at start: %s' % (loadavg(),), flush=True)
    try:
        for variant in VARIANTS:
            data_dir = os.path.join(scratch, variant)
            os.makedirs(data_dir, exist_ok=True)
            cli = Child(['cli_scans.py', variant, '--prefix', prefix, '--n', str(args.n), '--reps', str(args.reps),
                         '--data-dir', data_dir], env, name='cli-' + variant, log_path=log)
            try:
                res = cli.expect('result', 600)
            finally:
                cli.stop()
            per_point = [s / args.n for s in res['seconds']]
            results[variant] = {'per_point_ms': 1e3 * med(per_point), 'runs_s': res['seconds']}
            print('%-15s per point %7.3f ms  (runs %s s)' % (
                variant, results[variant]['per_point_ms'], ' '.join('%.2f' % s for s in res['seconds'])), flush=True)
    finally:
        stop_process(ioc)
        shutil.rmtree(scratch, ignore_errors=True)
    ratios = {}
    if 'ophyd-async' in results:
        ratios['ctlshell/ophyd-async (goal <= 1.2)'] = results['ctlshell']['per_point_ms'] / results['ophyd-async']['per_point_ms']
    ratios['ctlshell/hand-written loop'] = results['ctlshell']['per_point_ms'] / results['loop']['per_point_ms']
    ratios['NeXus recording: ctlshell-nexus/ctlshell (goal <= 1.10)'] = (
        results['ctlshell-nexus']['per_point_ms'] / results['ctlshell']['per_point_ms'])
    print('\n=== ratios (same run) ===')
    for k, v in ratios.items():
        print('%-58s %6.3f' % (k, v))
    info = {'python': platform.python_version(), 'cpus': os.cpu_count(), 'n': args.n, 'reps': args.reps,
            'loadavg_at_end': loadavg(), 'elapsed_s': time.time() - t_begin}
    with open(args.out, 'w') as f:
        json.dump({'info': info, 'results': results, 'ratios': ratios}, f, indent=1)
    print('JSON: %s' % os.path.relpath(args.out))


if __name__ == '__main__':
    main()
