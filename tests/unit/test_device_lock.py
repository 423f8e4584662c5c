"""Unit tests of the hosted-device lock (``PVStore.add_lock``): the ``lockedBy`` PV
checked in ``SoftPV.client_write``. No sockets: clients are :class:`Client` values."""

from __future__ import annotations

import asyncio

import pytest

from ctlshell.core import Client, Metadata, NotFoundError, PutRefusedError, PVStore, SoftPV, ValidationError

A = Client("ca", "host", "user", "127.0.0.1:5001")
B = Client("ca", "host", "user", "127.0.0.1:5002")  # same user and host, another connection


def write(pv: SoftPV, value: object, client: Client) -> None:
    asyncio.run(pv.client_write(value, client))


@pytest.fixture
def store() -> PVStore:
    store = PVStore()
    store.add(SoftPV("DEV:X", 1.0, Metadata()))
    store.add(SoftPV("OTHER:X", 1.0, Metadata()))
    store.add_lock("DEV:")
    return store


def test_holder_writes_others_are_refused_and_nothing_changes(store: PVStore) -> None:
    lock, x = store.get("DEV:lockedBy"), store.get("DEV:X")
    write(lock, "alice", A)
    write(x, 2.0, A)
    before = x.read()
    with pytest.raises(PutRefusedError, match="locked by 'alice'"):
        write(x, 3.0, B)
    assert x.read() == before
    with pytest.raises(PutRefusedError):  # the lock itself cannot be stolen
        write(lock, "bob", B)
    assert lock.read().value == "alice"
    write(store.get("OTHER:X"), 5.0, B)  # another prefix is not covered
    write(lock, "", A)  # release
    write(x, 3.0, B)
    assert x.read().value == 3.0


def test_privileged_clear_and_remove(store: PVStore) -> None:
    write(store.get("DEV:lockedBy"), "alice", A)
    store.clear_lock("DEV:")
    write(store.get("DEV:X"), 4.0, B)
    assert store.get("DEV:X").read().value == 4.0
    store.remove_lock("DEV:")
    assert "DEV:lockedBy" not in store
    with pytest.raises(NotFoundError):
        store.clear_lock("DEV:")


def test_bad_lock_prefixes_are_refused(store: PVStore) -> None:
    with pytest.raises(ValidationError):
        store.add_lock("")
    with pytest.raises(ValidationError):
        store.add_lock("DEV:")


def test_a_closed_connection_releases_its_locks_only(store: PVStore) -> None:
    store.add(SoftPV("DEV2:X", 1.0, Metadata()))
    store.add_lock("DEV2:")
    write(store.get("DEV:lockedBy"), "alice", A)
    write(store.get("DEV2:lockedBy"), "bob", B)
    assert store.release_locks_of("") == [] and store.release_locks_of("127.0.0.1:9") == []
    assert store.release_locks_of(A.peer) == ["DEV:"]
    assert store.get("DEV:lockedBy").read().value == ""
    write(store.get("DEV:X"), 2.0, B)  # free again
    with pytest.raises(PutRefusedError):
        write(store.get("DEV2:X"), 2.0, A)  # bob's lock stays
