"""Shared helpers for bench/bench_ca.py and its child scripts.

Adapted from the team's EPICS baseline scripts (anchors/epics/common.py).

Child processes talk to the orchestrator with one JSON object per line on
stdout, prefixed with ``@@`` (IOC banners and library chatter are ignored),
and take line commands on stdin.  Every child is started with
``ctlshell.testing.child_command`` (no real-time privileges when root) and an
environment from ``ctlshell.testing.loopback_env`` (loopback only).
"""
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time

from ctlshell.core import stop_process

HERE = os.path.dirname(os.path.abspath(__file__))
WAVE_N = 1000


# --------------------------------------------------------------------------
# child side
# --------------------------------------------------------------------------
def emit(**kw):
    """Send one message to the orchestrator."""
    sys.stdout.write('@@' + json.dumps(kw) + '\n')
    sys.stdout.flush()


def commands():
    """Iterate over stdin command lines (split into words)."""
    for line in sys.stdin:
        words = line.split()
        if words:
            yield words


def post_loop(which, seconds, post_one):
    """Call post_one(value) as fast as possible for `seconds`.

    which = 'scalar': value = 1.0, 2.0, ...
    which = 'wave':   a fresh 1000-element array with element 0 = 1, 2, ...
    which = 'age':    a fresh 1000-element array with element 0 = time.time()
    Returns the 'posted' message fields.
    """
    import numpy as np
    buf = np.zeros(WAVE_N)
    n = 0
    t_start = time.monotonic()
    w_start = time.time()
    t_end = t_start + seconds
    now = t_start
    while now < t_end:
        n += 1
        if which == 'scalar':
            post_one(float(n))
        else:
            buf = buf.copy()
            buf[0] = time.time() if which == 'age' else n
            post_one(buf)
        now = time.monotonic()
    return dict(n=n, t_start=t_start, t_stop=now, w_start=w_start,
                w_stop=time.time(), rate=n / (now - t_start))


def sequence_summary(times, counters):
    """What a monitor client reports of the counters it saw: count, first/last value
    and time, gaps (values never seen), duplicates and out-of-order arrivals."""
    gaps = dup = ooo = 0
    for a, b in zip(counters, counters[1:]):
        if b > a + 1:
            gaps += int(b - a - 1)
        elif b == a:
            dup += 1
        elif b < a:
            ooo += 1
    return dict(n=len(counters), first=counters[0] if counters else None,
                last=counters[-1] if counters else None, t_first=times[0] if times else None,
                t_last=times[-1] if times else None, gaps=gaps, dup=dup, out_of_order=ooo)


# --------------------------------------------------------------------------
# orchestrator side
# --------------------------------------------------------------------------
def _port_free(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(('127.0.0.1', port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port_pair(avoid=()):
    """A CA server port P with P+1 (the repeater port) also free on 127.0.0.1."""
    from ctlshell.testing import free_port
    taken = set(avoid)
    for _ in range(100):
        p = free_port(avoid=taken)
        if _port_free(p + 1):
            return p
        taken.add(p)
    raise OSError('no free port pair on 127.0.0.1')


def ca_env(port, extra=None):
    """Loopback-only environment for a server on `port` and its clients."""
    from ctlshell.testing import loopback_env
    env = loopback_env(ca_server_port=port, ca_search_ports=[port])
    # caproto servers beacon to EPICS_CAS_BEACON_PORT (default 5065), not to
    # EPICS_CA_REPEATER_PORT: keep their beacons on our own port too
    env['EPICS_CAS_BEACON_PORT'] = str(port + 1)
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    if extra:
        env.update(extra)
    return env


class Child:
    """A child process speaking the @@json protocol (stopped by its own PID)."""

    def __init__(self, args, env, name=None, log_path=None):
        from ctlshell.testing import child_command
        self.name = name or os.path.basename(args[0])
        self.q = queue.Queue()
        self._log = open(log_path, 'a') if log_path else None
        self.p = subprocess.Popen(
            child_command(*args), env=env, cwd=HERE, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            bufsize=1)
        self.pid = self.p.pid
        self.other = []
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        for line in self.p.stdout:
            if line.startswith('@@'):
                try:
                    self.q.put(json.loads(line[2:]))
                    continue
                except ValueError:
                    pass
            if self._log:
                try:
                    self._log.write('[%s %d] %s' % (self.name, self.pid, line))
                    self._log.flush()
                except ValueError:
                    pass
            if len(self.other) < 200:
                self.other.append(line.rstrip())
        self.q.put({'event': '__eof__'})

    def send(self, *words):
        self.p.stdin.write(' '.join(str(w) for w in words) + '\n')
        self.p.stdin.flush()

    def expect(self, event, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError('%s: timed out waiting for %r; output: %s'
                                   % (self.name, event, self.other[-20:]))
            try:
                msg = self.q.get(timeout=left)
            except queue.Empty:
                continue
            ev = msg.get('event')
            if ev == '__eof__':
                raise RuntimeError('%s exited (rc=%s) waiting for %r; output: %s'
                                   % (self.name, self.p.poll(), event, self.other[-20:]))
            if ev == 'error':
                raise RuntimeError('%s reported error: %s' % (self.name, msg))
            if ev == event:
                return msg

    def stop(self, timeout=5.0):
        """'quit' on stdin, then SIGTERM, then SIGKILL -- this child's PID only."""
        if self.p.poll() is None:
            try:
                self.send('quit')
                self.p.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                stop_process(self.p, 3)
        if self._log:
            self._log.close()
            self._log = None
        return self.p.returncode


def rss_mib(pid):
    """Resident memory of process `pid`, MiB (nan once it is gone)."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float('nan')


def cpu_seconds(pid):
    """user+system CPU seconds used so far by process `pid` (all threads)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return float('nan')
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def pct(values, p):
    """Percentile with linear interpolation (p in 0..100)."""
    v = sorted(values)
    if not v:
        return float('nan')
    k = (len(v) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(v) - 1)
    return v[f] + (v[c] - v[f]) * (k - f)


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def loadavg():
    with open('/proc/loadavg') as f:
        return [float(x) for x in f.read().split()[:3]]


def pin(pid, cpus):
    """Run every thread of process ``pid`` on ``cpus`` (threads started later inherit it).

    Where the client and the server run decides a loopback round trip: on one core
    (a hand-over, no wake-up of another core) it is about half the time it is across
    two, and the scheduler picks either at random, so unpinned read rates are bimodal.
    """
    for task in os.listdir(f'/proc/{pid}/task'):
        try:
            os.sched_setaffinity(int(task), cpus)
        except (ProcessLookupError, PermissionError):
            pass


def all_cpus():
    return set(range(os.cpu_count() or 1))
