"""A ``pva://`` subscription that never wakes is reopened once a get of its PV answers
(backends/pva/_monitor.py), against a real p4p server in another process.

What cannot be made to happen on demand is the fault itself: p4p 4.3.0's gateway can
leave the first monitor of a PV silent for good on a loaded machine (its shared
upstream monitor misses the first wake-up and is never popped again; docs/guide/pva.md),
so a client's subscription is never woken while gets answer. The test gives the first
subscription of its PV a handler that drops every wake-up: from the client's side that
is the same silence. Everything else is real: the server, the get that shows the PV is
there, the subscription reopened, the updates that then arrive.
"""

from __future__ import annotations

import logging
import time
import uuid

import pytest

import ctlshell
from ctlshell.backends.pva import _monitor

from ._pva import P4pServer, next_pool_port
from .test_pva_client import Seen


@pytest.fixture
def quick_checks(monkeypatch):
    monkeypatch.setattr(_monitor, "STALL_AFTER", 0.5)
    monkeypatch.setattr(_monitor, "STALL_CONFIRM", 0.5)


def _first_subscription_silent(monkeypatch, pv: str) -> list[str]:
    real = _monitor.RawContext.monitor
    silenced: list[str] = []

    def monitor(ctx, name, handler, request=None):
        if name == pv and not silenced:
            silenced.append(name)
            return real(ctx, name, lambda *_: None, request)  # wake-ups lost: its FIFO is never read
        return real(ctx, name, handler, request)

    monkeypatch.setattr(_monitor.RawContext, "monitor", monitor)
    return silenced


def test_a_silent_subscription_is_reopened_and_then_sees_every_update(quick_checks, monkeypatch, caplog):
    prefix = f"S{uuid.uuid4().hex[:6]}:"
    server = P4pServer(prefix, next_pool_port()).start()
    address = f"pva://{prefix}TEMP"
    silenced = _first_subscription_silent(monkeypatch, f"{prefix}TEMP")
    caplog.set_level(logging.WARNING, logger=_monitor.__name__)
    seen = Seen()
    try:
        with ctlshell.monitor(address, seen):
            first = seen.wait_for(lambda r: r.connected, timeout=20)
            assert silenced == [f"{prefix}TEMP"] and first.value == 21.5
            reopened = [r.getMessage() for r in caplog.records if address in r.getMessage()]
            assert len(reopened) == 1 and "reopening" in reopened[0], reopened
            for value in (30.0, 31.0, 32.0):
                ctlshell.put(address, value, wait=True)
                seen.wait_for(lambda r, v=value: r.value == v)
        values = [r.value for r in seen.readings if r.connected]
        assert values == [21.5, 30.0, 31.0, 32.0]  # in order, none twice
    finally:
        server.close()


def test_a_pv_nobody_serves_yet_is_only_probed_and_connects_when_it_appears(quick_checks, monkeypatch,
                                                                             caplog):
    # a get may overtake the first value as the PV appears: the confirmation keeps its
    # real length, so only a subscription silent 5 s after a get answered is reopened
    monkeypatch.setattr(_monitor, "STALL_CONFIRM", 5.0)
    prefix = f"S{uuid.uuid4().hex[:6]}:"
    address = f"pva://{prefix}TEMP"
    caplog.set_level(logging.WARNING, logger=_monitor.__name__)
    seen = Seen()
    server = P4pServer(prefix, next_pool_port())
    try:
        with ctlshell.monitor(address, seen):
            time.sleep(2.0)  # probes at 0.5 s and 1.5 s: their gets find nobody
            server.start()
            assert seen.wait_for(lambda r: r.connected, timeout=30).value == 21.5
        assert not [r for r in caplog.records if "reopening" in r.getMessage()]
    finally:
        server.close()
