#!/usr/bin/env python
"""Tango client child of bench_tango.py: bare pytango or ctlshell, one per process.

  cli_tango.py bare|ctlshell URL      (URL: tango://127.0.0.1:DBPORT/test/x/dev)

Commands on stdin (one JSON answer each, prefixed with @@):
  reads ATTR N          N blocking reads of ATTR -> reads/s
  events N RATE SLEEP POLICY
                        subscribe to 'counter', make the device push N change events
                        at RATE/s (0: as fast as it can); the callback sleeps SLEEP s.
                        -> received, received/s, whether the newest value arrived,
                        lag of the newest value after the pushing ended, age (receipt
                        - Tango timestamp) median and p99 of the second half.
                        POLICY (ctlshell only): 'latest' or 'all' (KeepLast(1000000))
  quit
bare:     tango.DeviceProxy.read_attribute / subscribe_event(CHANGE_EVENT, callback)
ctlshell: ctlshell.get / ctlshell.monitor(policy='latest') / ctlshell.command
"""
import sys
import threading
import time

from _common import commands, emit, pct

KIND, URL = sys.argv[1], sys.argv[2]


class Bare:
    def __init__(self):
        import tango
        self.tango = tango
        self.p = tango.DeviceProxy(URL.removeprefix('tango://'))

    def read(self, attr):
        return self.p.read_attribute(attr).value

    def subscribe(self, on_value, policy):
        def cb(ev):
            if not ev.err:
                on_value(ev.attr_value.value, ev.attr_value.time.totime())
        eid = self.p.subscribe_event('counter', self.tango.EventType.CHANGE_EVENT, cb)
        return lambda: self.p.unsubscribe_event(eid)

    def command(self, name, arg=None):
        return self.p.command_inout(name, arg) if arg is not None else self.p.command_inout(name)


class Ctl:
    def __init__(self):
        import ctlshell
        self.c = ctlshell

    def read(self, attr):
        return self.c.get(f'{URL}/{attr}').value

    def subscribe(self, on_value, policy):
        chosen = self.c.KeepLast(1_000_000) if policy == 'all' else 'latest'
        sub = self.c.monitor(f'{URL}/counter', lambda r: on_value(r.value, r.timestamp), policy=chosen)
        return sub.close

    def command(self, name, arg=None):
        return self.c.command(f'{URL}->{name}')(arg)

    def info(self):
        m = self.c.info(f'{URL}/counter')
        return {'dropped': m.dropped, 'updates': m.updates}


def reads(cli, attr, n):
    for _ in range(50):
        cli.read(attr)
    t0 = time.perf_counter()
    for _ in range(n):
        cli.read(attr)
    dt = time.perf_counter() - t0
    emit(event='result', n=n, per_s=n / dt)


def events(cli, n, rate, sleep, policy):
    got = []  # (value, receipt time, Tango timestamp)
    first = threading.Event()

    def on_value(value, stamp):
        got.append((value, time.time(), stamp))
        first.set()
        if sleep:
            time.sleep(sleep)

    stop = cli.subscribe(on_value, policy)
    first.wait(10)
    start = cli.read('counter')
    target = start + n
    del got[:]
    t0 = time.time()
    cli.command('StartPush', [float(n), float(rate)])
    while not cli.command('PushDone'):
        time.sleep(0.02)
    t_done = time.time()
    last_len, quiet_since = -1, time.monotonic()
    give_up = time.monotonic() + 10.0
    # until the newest came, nothing moved for 1.5 s, or 10 s after the pushing ended
    while time.monotonic() - quiet_since < 1.5 and time.monotonic() < give_up:
        if got and got[-1][0] == target:
            break
        if len(got) != last_len:
            last_len, quiet_since = len(got), time.monotonic()
        time.sleep(0.01)
    extra = cli.info() if hasattr(cli, 'info') else {}
    stop()
    rows = list(got)
    if not rows:
        emit(event='result', received=0)
        return
    t_last = rows[-1][1]
    newest = rows[-1][0] == target
    half = [r for r in rows if r[2] >= t0 + (t_done - t0) / 2]
    ages = [r[1] - r[2] for r in half] or [float('nan')]
    emit(event='result', pushed=n, push_rate=n / max(t_done - t0, 1e-9), received=len(rows),
         recv_per_s=len(rows) / max(t_last - t0, 1e-9), newest=newest,
         lag_s=(t_last - t_done) if newest else None, age_median=pct(ages, 50), age_p99=pct(ages, 99),
         in_order=all(a[0] < b[0] for a, b in zip(rows, rows[1:])), **extra)


def main():
    cli = Bare() if KIND == 'bare' else Ctl()
    cli.read('double_scalar')
    emit(event='ready')
    for words in commands():
        if words[0] == 'quit':
            break
        if words[0] == 'reads':
            reads(cli, words[1], int(words[2]))
        elif words[0] == 'events':
            events(cli, int(words[1]), float(words[2]), float(words[3]), words[4])
    if KIND == 'ctlshell':
        cli.c.shutdown()


if __name__ == '__main__':
    main()
