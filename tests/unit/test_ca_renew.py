"""The one reach into aioca's private channel cache (ctlshell/backends/ca/_renew.py)
still fits the installed aioca: a channel it holds is cleared and forgotten, and the
next use of the name makes a new one. No server: searches go to loopback only."""

from __future__ import annotations

import asyncio
import uuid

import aioca

from ctlshell.backends.ca import _renew


def _get_channel(name: str) -> object:
    from aioca._catools import get_channel  # what caget and camonitor use

    return get_channel(name)


def _names() -> set[str]:
    return {info.name for info in aioca.get_channel_infos()}


def test_renew_forgets_the_channel_of_a_name_and_the_next_use_makes_a_new_one():
    name = f"RENEW{uuid.uuid4().hex[:8]}:NOWHERE"
    other = f"{name}:OTHER"

    async def scenario() -> tuple[bool, bool, bool, set[str], bool]:
        for pv in (name, other):
            try:
                await aioca.caget(pv, timeout=0.05)  # nobody serves it: aioca keeps the channel
            except aioca.CANothing:
                pass
        held = _get_channel(name)
        assert {name, other} <= _names()
        renewed = _renew.renew(name)
        left = _names()
        again = _renew.renew(name)  # nothing held any more
        fresh = _get_channel(name) is not held
        _renew.renew(name)
        _renew.renew(other)
        return renewed, again, fresh, left, other in left

    renewed, again, fresh, left, other_kept = asyncio.run(scenario())
    assert renewed and not again and fresh
    assert name not in left and other_kept  # only that name's channel went


def test_renew_before_aioca_has_a_cache_on_this_loop_does_nothing():
    async def scenario() -> bool:
        return _renew.renew("RENEW:NEVER:USED")

    assert asyncio.run(scenario()) is False


def test_hold_creates_the_channel_now_and_it_stays_until_renewed():
    name = f"RENEW{uuid.uuid4().hex[:8]}:HELD"

    async def scenario() -> tuple[bool, bool, bool]:
        _renew.hold(name)  # no caget: created now, searching, not waited for
        held = name in _names()
        _renew.hold(name)  # again: the same channel
        same = sum(info.name == name for info in aioca.get_channel_infos()) == 1
        gone = _renew.renew(name) and name not in _names()
        return held, same, gone

    assert asyncio.run(scenario()) == (True, True, True)
