"""Core additions for the Tango issue: drops counted in info(), readings noted from a
caller's thread, backends without commands, Metadata/CommandInfo defaults (no sockets)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from ctlshell.backends.local import LocalBackend
from ctlshell.core import (
    Address,
    AddressError,
    BackendRegistry,
    ChannelCache,
    ChannelState,
    CommandInfo,
    KeepLatest,
    Metadata,
    PVStore,
    Reading,
    Runtime,
    SoftPV,
)

X = Address("local", "X")


@pytest.fixture
def env():
    store = PVStore()
    store.add(SoftPV("X", 1.0, Metadata(units="mm")))
    cache = ChannelCache(BackendRegistry({"local": lambda: LocalBackend(store)}))
    rt = Runtime()
    yield store, cache, rt
    rt.call(cache.close(), 5.0)
    rt.shutdown()


def test_info_counts_what_subscribers_dropped(env):
    store, cache, rt = env
    release = threading.Event()
    sub = rt.call(cache.subscribe(X, lambda r: release.wait(5), KeepLatest()), 5.0)
    time.sleep(0.05)  # the first reading is being delivered: the callback blocks

    async def publish() -> None:
        for i in range(5):
            store.get("X").write(float(i + 2))
            await asyncio.sleep(0.01)

    rt.call(publish(), 5.0)
    time.sleep(0.1)
    meta = rt.call(cache.info(X, 5.0), 5.0)
    release.set()
    assert sub.dropped >= 3 and meta.dropped == sub.dropped and meta.units == "mm"
    sub.close()


def test_note_records_a_reading_got_elsewhere(env):
    _, cache, rt = env

    async def note_and_status():
        cache.note(X, Reading("local://X", 5.0))
        return cache.status()

    (status,) = rt.call(note_and_status(), 5.0)
    assert status.state is ChannelState.CONNECTED and status.value == 5.0


def test_backends_without_commands_say_so():
    backend = LocalBackend(PVStore())
    with pytest.raises(AddressError, match="has no commands"):
        asyncio.run(backend.execute("X", None, 1.0))
    with pytest.raises(AddressError, match="has no commands"):
        asyncio.run(backend.command_info("X", 1.0))
    assert backend.get_now("X", 5.0) is None  # only backends that can read on a caller's thread do


def test_metadata_and_command_info_defaults():
    meta = Metadata()
    assert meta.updates == "" and meta.dropped == 0
    assert str(CommandInfo("Move", "double", "void")) == "Move(double) -> void"
