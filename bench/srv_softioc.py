"""pythonSoftIOC (RSRV CA server) with a poster in the main thread (bench
child).  Adapted from anchors/epics/srv_softioc.py.

Records: <P>:scalar (aOut), <P>:wave (WaveformOut 1000), <P>:lat (aOut),
<P>:agew (WaveformOut 1000).  Posting is ``record.set(v)`` (synchronous
dbPutField + process, one monitor event per call).

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
    ap.add_argument('--prefix', default='BSIOC')
    args = ap.parse_args()
    t0 = time.monotonic()
    from softioc import asyncio_dispatcher, builder, softioc
    dispatcher = asyncio_dispatcher.AsyncioDispatcher()
    builder.SetDeviceName(args.prefix)
    recs = {
        'scalar': builder.aOut('scalar', initial_value=0.0),
        'wave': builder.WaveformOut('wave', initial_value=np.zeros(WAVE_N)),
        'lat': builder.aOut('lat', initial_value=0.0),
        'age': builder.WaveformOut('agew', initial_value=np.zeros(WAVE_N)),
    }
    builder.LoadDatabase()
    softioc.iocInit(dispatcher)
    emit(event='ready', pid=os.getpid(), t_ready=time.monotonic() - t0)
    for words in commands():
        if words[0] == 'quit':
            break
        elif words[0] == 'post':
            rec = recs[words[1]]
            emit(event='posted', **post_loop(words[1], float(words[2]), rec.set))
        else:
            emit(event='error', error='unknown command %r' % words)
    sys.stdout.flush()
    os._exit(0)   # skip the IOC shell / epicsExit chatter


if __name__ == '__main__':
    main()
