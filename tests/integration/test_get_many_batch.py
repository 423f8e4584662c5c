"""``get_many`` and ``info_many`` read CA and PVA channels in one batch per backend
(``backends/ca/_bulk.py``: every search, then every read, one wake-up of the loop;
``backends/pva``: a future per PV, one timer). What a batch gives must be what a
``get``/``info`` of each gives, dead channels must cost one timeout and stay that
address's error, and channels of every scheme mix in one call."""

from __future__ import annotations

import time

import numpy as np
import pytest

import ctlshell
from ctlshell.core import ChannelTimeoutError, Severity


@pytest.fixture
def pvs(prefix):
    handles = [
        ctlshell.host(f"{prefix}D", 1.25, units="mm", limits=(-5, 5), warning_limits=(-1, 1), precision=3,
                      writable=True),
        ctlshell.host(f"{prefix}I", 7, writable=True),
        ctlshell.host(f"{prefix}E", "Two", enum=["One", "Two", "Three"]),
        ctlshell.host(f"{prefix}S", "hello"),
        ctlshell.host(f"{prefix}W", np.arange(10, dtype=float)),
    ]
    yield handles
    for h in handles:
        h.remove()


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("scheme", ["ca", "pva"])
def test_a_batch_reads_what_a_get_of_each_reads(pvs, scheme):
    addresses = [f"{scheme}://{h.name}" for h in pvs]
    batch = ctlshell.get_many(addresses, timeout=5)
    assert batch.ok, batch.errors
    for address in addresses:
        one = ctlshell.get(address)
        got = batch[address]
        assert got.address == address
        assert _same(got.value, one.value), (address, got.value, one.value)
        assert (got.severity, got.timestamp) == (one.severity, one.timestamp), address
    assert batch[addresses[0]].severity is Severity.MINOR


@pytest.mark.parametrize("scheme", ["ca", "pva"])
def test_a_batch_of_metadata_is_what_info_of_each_gives(pvs, scheme):
    addresses = [f"{scheme}://{h.name}" for h in pvs]
    batch = ctlshell.info_many(addresses, timeout=5)
    assert batch.ok, batch.errors
    for address in addresses:
        assert batch[address] == ctlshell.info(address), address
    d = batch[addresses[0]]
    assert (d.units, d.control_limits, d.precision, d.writable) == ("mm", (-5.0, 5.0), 3, True)
    assert batch[addresses[2]].choices == ("One", "Two", "Three")


@pytest.mark.parametrize("scheme", ["ca", "pva"])
def test_dead_channels_cost_one_timeout_and_hide_no_live_one(prefix, scheme):
    live = [ctlshell.host(f"{prefix}L{i}", float(i)) for i in range(30)]
    dead = [f"{scheme}://{prefix}NOBODY{i}" for i in range(10)]
    addresses = [f"{scheme}://{h.name}" for h in live[:15]] + dead + [f"{scheme}://{h.name}" for h in live[15:]]
    try:
        started = time.monotonic()
        batch = ctlshell.get_many(addresses, timeout=1.5)
        took = time.monotonic() - started
    finally:
        for h in live:
            h.remove()
    assert took < 1.5 + 1.5, f"{took:.1f} s for one batch with a 1.5 s timeout"
    assert [batch[f"{scheme}://{h.name}"].value for h in live] == [float(i) for i in range(30)]
    assert sorted(batch.errors) == sorted(dead)
    for address in dead:
        assert isinstance(batch.errors[address], ChannelTimeoutError)
        assert f"{address}: no answer to get within 1.5 s" in str(batch.errors[address])


def test_schemes_mix_in_one_batch_and_a_name_given_twice_is_read_once(pvs):
    d = pvs[0]
    addresses = [f"ca://{d.name}", f"pva://{d.name}", f"local://{pvs[3].name}", f"ca://{d.name}",
                 f"pva://{pvs[1].name}.value"]
    batch = ctlshell.get_many(addresses, timeout=5)
    assert batch.ok, batch.errors
    assert batch.addresses == addresses
    assert [batch[a].value for a in addresses] == [1.25, 1.25, "hello", 1.25, 7]


def test_a_batch_read_marks_the_channels_connected_in_the_cache(pvs):
    addresses = [f"ca://{h.name}" for h in pvs]
    ctlshell.get_many(addresses, timeout=5)
    by_address = {row.address: row for row in ctlshell.status()}
    assert all(by_address[a].state.name == "CONNECTED" for a in addresses), [by_address[a] for a in addresses]
    assert by_address[addresses[1]].value == 7
