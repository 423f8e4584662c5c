"""ctlshell device/daemon server (bench child for bench_devices.py).

Hosts, with ``ctlshell.host(obj)``:
  - an mKTL-style ``Daemon`` with one writable item ``<P>SET`` whose ``validate``
    and ``req_set`` only record the value (the req_set round-trip figure);
  - a ``Device`` with one read-only ``DevicePV`` ``<P>VALUE`` whose device thread
    (``run()``) pushes a counter through the push queue on command (the push
    throughput figure).

ctlshell reads EPICS_CA_SERVER_PORT from the environment and binds to 127.0.0.1.

stdin commands:
  push RATE SECONDS   the device thread pushes 1.0, 2.0, ... for SECONDS
                      (RATE pushes/s, 0 = as fast as possible); emits 'pushed'
  stats               emits 'stats' (values seen by validate / req_set)
  quit

Option: --inline declares the item ``blocking = False`` (its validate/req_set
never block), so client writes run on the server loop instead of a worker thread.
"""
import argparse
import os
import queue
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import commands, emit  # noqa: E402
from bench_devices import push_loop, wait_for  # noqa: E402

from ctlshell.host import Daemon, Device, DevicePV, Item  # noqa: E402


class RecordingItem(Item):
    """validate and req_set do trivial work: remember the value."""

    def __init__(self, daemon, key):
        super().__init__(daemon, key)
        self.validated = []
        self.applied = []

    def validate(self, value):
        self.validated.append(value)
        return value

    def req_set(self, value):
        self.applied.append(value)


class ReadingItem(Item):
    """req_refresh does trivial work: count the reads (mKTL: a get reaches the daemon)."""

    def __init__(self, daemon, key):
        super().__init__(daemon, key)
        self.reads = 0

    def req_refresh(self):
        self.reads += 1
        return float(self.reads)


class BenchDaemon(Daemon):
    CATALOG = {
        'SET': {'type': 'numeric', 'initial': 0.0, 'description': 'req_set round-trip target'},
        'GET': {'type': 'numeric', 'initial': 0.0, 'settable': False,
                'description': 'read-through round-trip target'},
    }

    def setup(self):
        self.add_item(RecordingItem, 'SET')
        self.add_item(ReadingItem, 'GET')


class Pusher(Device):
    """The device thread waits for a job, then pushes a counter as fast as asked."""

    VALUE = DevicePV(0.0, doc='pushed counter')

    def __init__(self, prefix=''):
        super().__init__(prefix)
        self.jobs = queue.Queue()

    def run(self):
        while not self.stopping.is_set():
            try:
                rate, seconds = self.jobs.get(timeout=0.2)
            except queue.Empty:
                continue
            dropped0 = self.push_dropped
            res = push_loop(lambda v: self.push(VALUE=v), rate, seconds)
            backlog = len(self._push)   # still queued when pushing stopped
            # until the PV itself holds the final counter (bounded)
            final = float(res['n'])
            drained = wait_for(lambda: self.get('VALUE') == final, 60)
            res.update(backlog_at_stop=backlog, t_server_final=drained,
                       push_dropped=self.push_dropped - dropped0)
            emit(event='pushed', **res)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--prefix', default='BDCTL:')
    ap.add_argument('--inline', action='store_true', help='Item.blocking = False (no worker-thread hop)')
    args = ap.parse_args()
    RecordingItem.blocking = ReadingItem.blocking = not args.inline
    t0 = time.monotonic()
    import ctlshell
    daemon = ctlshell.host(BenchDaemon(args.prefix))
    device = ctlshell.host(Pusher(args.prefix))
    emit(event='ready', pid=os.getpid(), t_ready=time.monotonic() - t0,
         port=ctlshell.api.session().ca_server().port,
         pvs={'set': args.prefix + 'SET', 'value': args.prefix + 'VALUE', 'get': args.prefix + 'GET'})
    try:
        for words in commands():
            if words[0] == 'quit':
                break
            elif words[0] == 'push':
                device.jobs.put((float(words[1]), float(words[2])))
            elif words[0] == 'stats':
                item = daemon['SET']
                emit(event='stats', validated=len(item.validated), applied=len(item.applied),
                     last_applied=item.applied[-1] if item.applied else None,
                     value=item.value, push_dropped=device.push_dropped, pushed=device.pushed,
                     reads=daemon['GET'].reads)
            else:
                emit(event='error', error='unknown command %r' % words)
    finally:
        ctlshell.shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
