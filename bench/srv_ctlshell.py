"""ctlshell-hosted CA server with a poster in the main thread (bench child).

PVs: <P>scalar (double), <P>wave (1000 doubles), <P>lat (double, writable),
<P>agew (1000 doubles).  The poster does ``pv.value = v`` (non-blocking,
coalesced by ctlshell).  ctlshell reads EPICS_CA_SERVER_PORT from the
environment when the session is created and binds to 127.0.0.1.

stdin commands: post scalar|wave|age SECONDS ; quit
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import WAVE_N, commands, emit, post_loop  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--prefix', default='BCTL:')
    # diagnostics only (not used by the default figures)
    ap.add_argument('--yield-every', type=int, default=0,
                    help='poster calls time.sleep(0) after every N posts (0: never)')
    ap.add_argument('--switch-interval', type=float, default=None,
                    help='sys.setswitchinterval() for this process')
    ap.add_argument('--no-pace', action='store_true',
                    help="turn off the hosted server's per-circuit pacing (if it has one)")
    args = ap.parse_args()
    if args.no_pace:
        from ctlshell.host import _ca_server
        circuit = getattr(_ca_server, '_Circuit', None)
        if circuit is None or not hasattr(circuit, '_pacing'):
            emit(event='error', error='this ctlshell has no circuit pacing to turn off')
            return 1
        circuit._pacing = False
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    t0 = time.monotonic()
    import ctlshell
    P = args.prefix
    pvs = {
        'scalar': ctlshell.host(P + 'scalar', 0.0),
        'wave': ctlshell.host(P + 'wave', np.zeros(WAVE_N)),
        'lat': ctlshell.host(P + 'lat', 0.0, writable=True),
        'age': ctlshell.host(P + 'agew', np.zeros(WAVE_N)),
    }
    emit(event='ready', pid=os.getpid(), t_ready=time.monotonic() - t0,
         port=ctlshell.api.session().ca_server().port)
    try:
        for words in commands():
            if words[0] == 'quit':
                break
            elif words[0] == 'post':
                pv = pvs[words[1]]

                if args.yield_every:
                    count = [0]

                    def post_one(v, pv=pv, every=args.yield_every):
                        pv.value = v
                        count[0] += 1
                        if count[0] % every == 0:
                            time.sleep(0)
                else:
                    def post_one(v, pv=pv):
                        pv.value = v
                emit(event='posted', **post_loop(words[1], float(words[2]), post_one))
            else:
                emit(event='error', error='unknown command %r' % words)
    finally:
        ctlshell.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
