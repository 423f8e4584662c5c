"""Acceptance 8: a slow external client never falls behind.

A pyepics monitor whose callback sleeps 50 ms (so it reads at most 20 updates/s)
watches a 1000-element waveform that ctlshell publishes about 500 times a second.
A bare caproto server lets such a client fall seconds behind; ctlshell's hosted
server keeps one queued update per subscription and a small send buffer, so the
client always gets a recent value.
"""

from __future__ import annotations

import threading
import time

import numpy as np

import ctlshell

from .conftest import Background

SLEEP = 0.05
SECONDS = 6.0


def test_slow_pyepics_monitor_sees_values_less_than_half_a_second_old(prefix):
    pv = ctlshell.host(prefix + "WAVE", np.zeros(1000))
    stop = threading.Event()

    def publish():
        i = 0
        data = np.zeros(1000)
        while not stop.is_set():
            i += 1
            data[0] = i
            pv.value = data
            time.sleep(0.002)

    client = Background("slow", prefix + "WAVE", str(SECONDS), str(SLEEP))
    try:
        client.wait_ready()
        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        result = client.result(timeout=SECONDS + 30)
    finally:
        stop.set()
        pv.remove()
    ages = result["ages"]  # (receipt time, receipt - server timestamp, counter)
    start = ages[0][0]
    steady = [age for t, age, _ in ages if t - start > 1.0]
    counters = [c for _, _, c in ages]
    assert len(steady) > 30, "the client kept receiving"
    assert counters == sorted(counters), "never an older value after a newer one"
    assert counters[-1] - counters[0] > len(counters), "intermediate values were skipped, not queued"
    # newest-value delivery: ages stay near one client sleep (50 ms); a queue would make
    # them grow by 25 values per sleep, to seconds. Percentiles, as load delays a few.
    ages_sorted = sorted(steady)
    assert ages_sorted[len(ages_sorted) // 2] < 0.5 and ages_sorted[int(0.9 * len(ages_sorted))] < 1.5, (
        f"values aged: median {ages_sorted[len(ages_sorted) // 2]:.3f} s, max {max(steady):.3f} s")
