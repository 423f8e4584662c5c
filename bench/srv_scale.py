"""N scalar PVs <P>:0 .. <P>:N-1 (and <P>:warm, for the clients' warm-up) hosted by one process (bench child of bench_scale.py):
ctlshell (``ctlshell.host``, served on CA and PVA at once) or pythonSoftIOC (aOut
records, CA).

stdin commands: tick SECONDS (write every PV once a second, values 1, 2, ...);
bump (every PV once more); quit
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import commands, emit  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--server', choices=['ctlshell', 'softioc'], required=True)
    ap.add_argument('--prefix', required=True)
    ap.add_argument('--n', type=int, required=True)
    args = ap.parse_args()
    t0 = time.monotonic()
    if args.server == 'ctlshell':
        import ctlshell
        handles = [ctlshell.host(f'{args.prefix}:{i}', 0.0, writable=True) for i in range(args.n)]
        ctlshell.host(f'{args.prefix}:warm', 0.0)

        def write(value):
            for h in handles:
                h.value = value
    else:
        from softioc import asyncio_dispatcher, builder, softioc
        dispatcher = asyncio_dispatcher.AsyncioDispatcher()
        builder.SetDeviceName(args.prefix)
        recs = [builder.aOut(str(i), initial_value=0.0) for i in range(args.n)]
        builder.aOut('warm', initial_value=0.0)
        builder.LoadDatabase()
        softioc.iocInit(dispatcher)

        def write(value):
            for r in recs:
                r.set(value)
    emit(event='ready', pid=os.getpid(), t_ready=time.monotonic() - t0)
    value = 0.0
    for words in commands():
        if words[0] == 'quit':
            break
        if words[0] == 'tick':
            start = time.monotonic()
            for k in range(int(float(words[1]))):
                value += 1
                write(value)
                time.sleep(max(0.0, start + k + 1 - time.monotonic()))
            emit(event='ticked', last=value, behind=time.monotonic() - start - int(float(words[1])))
        elif words[0] == 'bump':
            value += 1
            write(value)
            emit(event='bumped', last=value)
        else:
            emit(event='error', error='unknown command %r' % words)
    sys.stdout.flush()
    os._exit(0)


if __name__ == '__main__':
    main()
