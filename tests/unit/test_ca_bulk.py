"""The reach into aioca of the CA batch read (ctlshell/backends/ca/_bulk.py) still fits
the installed aioca: its channels take a connection listener and give it back, and a
batch whose channels never connect answers ECA_TIMEOUT for each within its timeout and
leaves no listener behind. No server: searches go to loopback only (reads of hosted
PVs are in tests/integration/test_get_many_batch.py)."""

from __future__ import annotations

import asyncio
import time
import uuid

import aioca
from epicscorelibs.ca import cadef

from ctlshell.backends.ca import _bulk


def _purge_this_loop() -> None:
    """Clear aioca's channels of the running loop only, as aioca's purge does for each
    (``aioca.purge_channel_caches`` clears every loop's: a session's too)."""
    from aioca._catools import _Context

    cache = _Context._channel_caches.pop(asyncio.get_running_loop(), None)
    if cache is not None:
        cache.purge()


def test_a_batch_of_channels_nobody_serves_times_out_each_and_leaves_no_listener():
    names = [f"BULK{uuid.uuid4().hex[:8]}:NOWHERE{i}" for i in range(5)]

    async def scenario() -> tuple[list[object], float, list[int]]:
        from aioca._catools import get_channel

        started = time.monotonic()
        got = await _bulk.read_many(names, aioca.FORMAT_TIME, 0.3)
        took = time.monotonic() - started
        left = [get_channel(n).count_subscriptions() for n in names]
        _purge_this_loop()
        return got, took, left

    got, took, left = asyncio.run(scenario())
    assert [type(v) for v in got] == [aioca.CANothing] * 5
    assert all(v.errorcode == cadef.ECA_TIMEOUT and v.name == n for v, n in zip(got, names))
    assert 0.25 < took < 3.0, took
    assert left == [0] * 5


def test_an_empty_batch_answers_at_once():
    async def scenario() -> list[object]:
        return await _bulk.read_many([], aioca.FORMAT_TIME, 5.0)

    assert asyncio.run(scenario()) == []


def test_a_listener_is_told_of_connections_and_closed_by_a_purge():
    """What _bulk relies on in aioca's Channel: _add_subscription/_remove_subscription,
    a call of _on_connect(bool) on the loop, and close() at a purge."""
    from aioca._catools import get_channel

    closed = []

    class Probe:
        def _on_connect(self, connected: bool) -> None:
            pass

        def close(self) -> None:
            closed.append(True)

    async def scenario() -> tuple[int, int]:
        channel = get_channel(f"BULK{uuid.uuid4().hex[:8]}:PROBE")
        probe = Probe()
        channel._add_subscription(probe)
        during = channel.count_subscriptions()
        _purge_this_loop()
        return during, len(closed)

    assert asyncio.run(scenario()) == (1, 1)
