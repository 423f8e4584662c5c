"""p4p PVA server (p4p.server.Server + server.thread.SharedPV) with a poster in the main
thread: the upstream server of bench_pva.py (adapted from anchors/epics/srv_p4p.py).

PVs: <P>scalar  NTScalar double           (posted by the poster)
     <P>wave    NTScalar double[1000]     (posted by the poster)
     <P>lat     NTScalar double, put handler posts the new value + op.done()
     <P>latw    NTScalar double[1000], same put handler
stdin: post scalar|wave SECONDS ; quit
"""
import argparse
import os
import sys

import numpy as np
from p4p.nt import NTScalar
from p4p.server import Server
from p4p.server.thread import SharedPV

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import WAVE_N, commands, emit, post_loop  # noqa: E402


class EchoHandler:
    """Accept a put: post the value to all subscribers, then complete."""

    def put(self, pv, op):
        pv.post(op.value())
        op.done()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--prefix', default='PVA:')
    args = ap.parse_args()
    p = args.prefix
    pvs = {
        'scalar': SharedPV(nt=NTScalar('d'), initial=0.0),
        'wave': SharedPV(nt=NTScalar('ad'), initial=np.zeros(WAVE_N)),
        'lat': SharedPV(nt=NTScalar('d'), initial=0.0, handler=EchoHandler()),
        'latw': SharedPV(nt=NTScalar('ad'), initial=np.zeros(WAVE_N), handler=EchoHandler()),
    }
    server = Server(providers=[{p + k: v for k, v in pvs.items()}])
    emit(event='ready', pid=os.getpid(), conf=server.conf())
    for words in commands():
        if words[0] == 'quit':
            break
        if words[0] == 'post':
            emit(event='posted', **post_loop(words[1], float(words[2]), pvs[words[1]].post))
        else:
            emit(event='error', error='unknown command %r' % words)
    server.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
