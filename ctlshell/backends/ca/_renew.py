"""Renewing one channel of aioca's channel cache (a fresh channel searches at once), and
holding one open.

libca parks a channel whose server said "this PV is gone" (CA_PROTO_SERVER_DISCONN)
in its disconnect governor and searches for it again only when that governor's
timer fires, every 10 s (``udpiiu::disconnectGovernorTimer``; a beacon anomaly does
not move such channels). aioca keeps one channel per name for the whole process and
offers no way to drop one. When this process serves a name again, the stale channel
is cleared and forgotten here, so the next use creates a fresh one, whose search the
new server answers at once.

This module is the one reach into aioca's private channel cache (``_Context``,
``ChannelCache``'s name mangled dict, ``Channel._purge``), checked against the
installed aioca by ``tests/unit/test_ca_renew.py``. It knows nothing of ctlshell.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["hold", "renew"]


def _channels() -> dict[str, Any] | None:
    """aioca's channels by name for the running loop, or None when it has none yet."""
    from aioca._catools import _Context

    cache = _Context._channel_caches.get(asyncio.get_running_loop())
    if cache is None:
        return None
    channels: dict[str, Any] = cache._ChannelCache__channels
    return channels


def hold(name: str) -> None:
    """Create aioca's channel of ``name`` now, without waiting for it to connect (on
    the loop aioca runs on); it stays in aioca's cache, so open, until the cache is purged.

    Parameters
    ----------
    name : str
        A CA PV name.
    """
    from aioca._catools import get_channel  # what aioca.connect(name, wait=False) does, synchronously

    get_channel(name)


def renew(name: str) -> bool:
    """Clear aioca's channel of ``name`` and forget it (on the loop aioca runs on).

    Its subscriptions are closed with it (``Channel._purge``); the next ``caget``,
    ``caput`` or ``camonitor`` of ``name`` creates a new channel, which searches now.

    Parameters
    ----------
    name : str
        A CA PV name.

    Returns
    -------
    bool
        Whether aioca had a channel of that name.
    """
    channels = _channels()
    old = None if channels is None else channels.pop(name, None)
    if old is None:
        return False
    old._purge()
    return True
