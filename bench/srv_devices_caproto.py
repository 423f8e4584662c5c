"""Bare caproto PVGroup reference server (bench child for bench_devices.py).

The canonical caproto patterns (spec peers-karabo-mktl-caproto.md section 3.5):
  - ``<P>SET``: a ``pvproperty`` whose ``@putter`` only records the value (the
    same trivial work as the ctlshell item's validate + req_set);
  - ``<P>VALUE``: read-only; its startup hook creates
    ``async_lib.ThreadsafeQueue()``, starts a ``threading.Thread`` (the device
    thread) that calls ``queue.put(n)``, and loops
    ``await instance.write(await queue.async_get())``.

The asyncio server (``caproto.asyncio.server.Context(...).run()``, what
``start_server`` does) runs in a background thread with default caproto settings,
bound to 127.0.0.1 on EPICS_CA_SERVER_PORT; the main thread reads commands.

stdin commands:
  push RATE SECONDS   the device thread pushes 1.0, 2.0, ... for SECONDS
                      (RATE pushes/s, 0 = as fast as possible); emits 'pushed'
  stats               emits 'stats' (values seen by the putter)
  quit
"""
import argparse
import asyncio
import os
import queue
import sys
import threading
import time

from caproto.asyncio.server import Context
from caproto.server import PVGroup, pvproperty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import commands, emit  # noqa: E402
from bench_devices import push_loop, wait_for  # noqa: E402


class Bench(PVGroup):
    SET = pvproperty(value=0.0, name='SET', doc='req_set round-trip target')
    VALUE = pvproperty(value=0.0, name='VALUE', read_only=True, doc='pushed counter')
    GET = pvproperty(value=0.0, name='GET', read_only=True, doc='getter round-trip target')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.validated = []
        self.applied = []
        self.reads = 0
        self.jobs = queue.Queue()
        self.last_written = None
        self.started = threading.Event()
        self._queue = None

    @GET.getter
    async def GET(self, instance):
        self.reads += 1
        return float(self.reads)

    @SET.putter
    async def SET(self, instance, value):
        self.validated.append(value)
        self.applied.append(value)
        return value

    @VALUE.startup
    async def VALUE(self, instance, async_lib):
        q = async_lib.ThreadsafeQueue()
        self._queue = q
        threading.Thread(target=self.device_thread, args=(q.put,), name='device',
                         daemon=True).start()
        self.started.set()
        while True:
            value = await q.async_get()
            await instance.write(value)
            self.last_written = value

    def device_thread(self, put):
        while True:
            rate, seconds = self.jobs.get()
            res = push_loop(put, rate, seconds)
            backlog = self.backlog_size()
            final = float(res['n'])
            drained = wait_for(lambda: self.last_written == final, 60)
            res.update(backlog_at_stop=backlog, t_server_final=drained, push_dropped=0)
            emit(event='pushed', **res)

    def backlog_size(self):
        # items the loop has not written yet (puts still in flight are not counted)
        inner = getattr(self._queue, '_queue', None)
        return inner.qsize() if inner is not None else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--prefix', default='BDCAP:')
    args = ap.parse_args()
    t0 = time.monotonic()
    group = Bench(prefix=args.prefix)
    loop = asyncio.new_event_loop()
    holder = {}

    async def serve():
        # caproto's asyncio Context must be created inside the running loop
        holder['ctx'] = Context(group.pvdb, ['127.0.0.1'])
        await holder['ctx'].run()

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
    if not group.started.wait(60):
        emit(event='error', error='server did not start')
        return 1
    deadline = time.monotonic() + 30
    while 'ctx' not in holder or not getattr(holder['ctx'], 'port', None):
        if time.monotonic() > deadline:
            emit(event='error', error='server has no port')
            return 1
        time.sleep(0.01)
    emit(event='ready', pid=os.getpid(), port=holder['ctx'].port,
         t_ready=time.monotonic() - t0,
         pvs={'set': args.prefix + 'SET', 'value': args.prefix + 'VALUE', 'get': args.prefix + 'GET'})
    for words in commands():
        if words[0] == 'quit':
            break
        elif words[0] == 'push':
            group.jobs.put((float(words[1]), float(words[2])))
        elif words[0] == 'stats':
            emit(event='stats', validated=len(group.validated), applied=len(group.applied),
                 last_applied=group.applied[-1] if group.applied else None,
                 value=group.VALUE.value, push_dropped=0, reads=group.reads)
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
