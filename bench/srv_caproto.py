"""Bare caproto PVGroup server (asyncio, background thread) with a poster in
the main thread (bench child).  Adapted from anchors/epics/srv_caproto.py.

PVs: <P>scalar, <P>wave (1000), <P>lat, <P>agew (1000).  Posting is
``asyncio.run_coroutine_threadsafe(prop.write(v), loop).result()``.
Default caproto settings (CAPROTO_SERVER_HIGH_LOAD_TIMEOUT_SEC = 0.01 s,
subscription backlog 1000) unless the environment says otherwise.

stdin commands: post scalar|wave|age SECONDS ; quit
"""
import argparse
import asyncio
import os
import sys
import threading
import time

from caproto.asyncio.server import Context
from caproto.server import PVGroup, pvproperty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import WAVE_N, commands, emit, post_loop  # noqa: E402


class Bench(PVGroup):
    scalar = pvproperty(value=0.0, name='scalar')
    wave = pvproperty(value=[0.0] * WAVE_N, dtype=float, max_length=WAVE_N, name='wave')
    lat = pvproperty(value=0.0, name='lat')
    agew = pvproperty(value=[0.0] * WAVE_N, dtype=float, max_length=WAVE_N, name='agew')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--prefix', default='BCAP:')
    args = ap.parse_args()
    t0 = time.monotonic()
    group = Bench(prefix=args.prefix)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder = {}

    async def startup_hook(async_lib):
        started.set()

    async def serve():
        # caproto's asyncio Context must be created inside the running loop
        holder['ctx'] = Context(group.pvdb, ['127.0.0.1'])
        await holder['ctx'].run(startup_hook=startup_hook)

    def server_thread():
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve())
        except asyncio.CancelledError:
            pass
        except Exception as ex:  # pragma: no cover
            emit(event='error', where='server_thread', error=repr(ex))

    th = threading.Thread(target=server_thread, name='caproto-server', daemon=True)
    th.start()
    if not started.wait(60):
        emit(event='error', error='server did not start')
        return 1
    emit(event='ready', pid=os.getpid(), port=holder['ctx'].port,
         t_ready=time.monotonic() - t0)
    props = {'scalar': group.scalar, 'wave': group.wave, 'age': group.agew}
    for words in commands():
        if words[0] == 'quit':
            break
        elif words[0] == 'post':
            prop = props[words[1]]

            def post_one(v, prop=prop):
                asyncio.run_coroutine_threadsafe(prop.write(v), loop).result()
            emit(event='posted', **post_loop(words[1], float(words[2]), post_one))
        else:
            emit(event='error', error='unknown command %r' % words)

    def _cancel():
        for task in asyncio.all_tasks(loop):
            task.cancel()
    loop.call_soon_threadsafe(_cancel)
    th.join(5)
    return 0


if __name__ == '__main__':
    sys.exit(main())
