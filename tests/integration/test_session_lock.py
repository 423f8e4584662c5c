"""Issue 18, acceptance 3: the first ``host()`` racing ``status()`` from another thread
and the sweeper never stalls (``Session`` held its lock while the loop started the
servers, and the loop itself takes that lock to flush notes: a stall of timeout + 5 s)."""

from __future__ import annotations

import threading
import time

import ctlshell
from ctlshell.api import session
from ctlshell.core import Reading, parse_address

ROUNDS = 50
#: the stall lasted timeout + 5 s (7 s here); a start takes well under a second even loaded
BOUND = 3.0


def test_first_host_racing_status_and_the_sweeper_never_stalls(prefix):
    worst = 0.0
    for round_ in range(ROUNDS):
        ctlshell.shutdown()
        ctlshell.configure(sweep_period=0.005, timeout=2.0)  # the sweeper flushes notes 200 times a second
        s = session()
        s._ensure_sweeper()
        stop = threading.Event()
        errors: list[BaseException] = []
        calls = [0]
        noted = parse_address(f"local://{prefix}N")

        def hammer() -> None:
            while not stop.is_set():
                try:
                    s.note(noted, Reading(str(noted), 1.0))  # what a get on a caller's thread leaves for the loop
                    ctlshell.status()
                    calls[0] += 1
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                    return

        racers = [threading.Thread(target=hammer) for _ in range(2)]
        for t in racers:
            t.start()
        try:
            while calls[0] == 0 and not errors:  # status() is running before host() starts
                time.sleep(0.001)
            started = time.monotonic()
            ctlshell.host(f"{prefix}R{round_}", float(round_))
            took = time.monotonic() - started
        finally:
            stop.set()
            for t in racers:
                t.join(10)
        assert not errors, f"round {round_}: status() failed: {errors[0]!r}"
        assert took < BOUND, f"round {round_}: the first host() took {took:.1f} s"
        assert ctlshell.get(f"local://{prefix}R{round_}").value == float(round_)
        worst = max(worst, took)
    ctlshell.shutdown()
    print(f"worst first host() of {ROUNDS}: {worst:.3f} s")
