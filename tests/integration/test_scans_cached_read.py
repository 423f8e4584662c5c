"""A monitored signal read right after its completed move gives the new value.

ophyd-async reads a signal it monitors from the values its callback was given; a
scan's point is read right after its move completes, so the monitor's update of that
move must have reached the callback by then (a loaded machine's scan recorded 2.5 for
its last point, 3.0: the update was still on its way)."""

from __future__ import annotations

import asyncio

from ctlshell.scans._backend import AddressBackend


def test_after_a_completed_put_the_monitor_has_given_the_new_value(hosted, prefix):
    hosted("M", 0.0, writable=True)

    async def moves() -> list[tuple[float, float | None]]:
        backend = AddressBackend(f"{prefix}M")
        await backend.connect(5)
        given: list[float] = []
        backend.set_callback(lambda reading: given.append(reading["value"]))
        stale = []
        try:
            for i in range(1, 101):
                await backend.put(float(i), wait=True)
                if not given or given[-1] != float(i):
                    stale.append((float(i), given[-1] if given else None))
        finally:
            backend.set_callback(None)
        return stale

    stale = asyncio.run(moves())
    assert stale == [], f"{len(stale)} of 100 puts were followed by an older cached value: {stale[:5]}"
