"""Unit tests for ctlshell.core._cache with the real LocalBackend (no sockets)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ctlshell.backends.local import LocalBackend
from ctlshell.core import (
    Address,
    AddressError,
    BackendRegistry,
    ChannelCache,
    ChannelState,
    KeepLast,
    KeepLatest,
    Metadata,
    NotFoundError,
    PVStore,
    Reading,
    Runtime,
    Severity,
    SoftPV,
    Subscription,
)
from ..waiting import wait_for

X = Address("local", "X")
Y = Address("local", "Y")


class Env:
    def __init__(self) -> None:
        self.store = PVStore()
        self.store.add(SoftPV("X", 1.0, Metadata(units="mm")))
        self.store.add(SoftPV("Y", 10, Metadata(dtype="long")))
        self.registry = BackendRegistry({"local": lambda: LocalBackend(self.store)})
        self.cache = ChannelCache(self.registry)
        self.rt = Runtime()

    def run(self, coro: Any) -> Any:
        return self.rt.call(coro, timeout=5.0)

    def on_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        async def wrap() -> Any:
            return fn(*args)
        return self.run(wrap())

    def subscribe(self, address: Address, sink: list[Any], policy: Any = None,
                  on_close: Callable[[Subscription], None] | None = None) -> Subscription:
        return self.run(self.cache.subscribe(address, lambda r: sink.append(r), policy or KeepLast(100),
                                             on_close))

    def entry(self, address: Address) -> Any:
        return self.on_loop(lambda: self.cache._entries[address])

    def settle(self) -> None:
        """Let callbacks already scheduled on the loop run."""
        async def nothing() -> None:
            return None
        self.run(nothing())


@pytest.fixture
def env() -> Iterator[Env]:
    e = Env()
    yield e
    e.run(e.cache.close())
    e.rt.shutdown()


# -- one-shot verbs ----------------------------------------------------------
def test_get_creates_entry_and_marks_connected(env: Env) -> None:
    reading = env.run(env.cache.get(X, 1.0))
    assert (reading.address, reading.value) == ("local://X", 1.0)
    assert X in env.cache
    [st] = env.on_loop(env.cache.status)
    assert (st.address, st.state, st.users, st.value) == ("local://X", ChannelState.CONNECTED, 0, 1.0)
    assert st.last_update == reading.timestamp


def test_get_of_unknown_pv_keeps_entry_never_connected(env: Env) -> None:
    missing = Address("local", "NOPE")
    with pytest.raises(NotFoundError, match="no local PV named 'NOPE'"):
        env.run(env.cache.get(missing, 1.0))
    [st] = env.on_loop(env.cache.status)
    assert st.state is ChannelState.NEVER_CONNECTED and st.last_update is None and st.value is None


def test_put_and_info(env: Env) -> None:
    env.run(env.cache.put(Y, "42", wait=True, timeout=1.0))
    assert env.store.get("Y").read().value == 42
    meta = env.run(env.cache.info(X, 1.0))
    assert meta.units == "mm"
    assert env.entry(X).metadata is meta
    assert {s.state for s in env.on_loop(env.cache.status)} == {ChannelState.CONNECTED}


def test_unknown_scheme_is_an_address_error(env: Env) -> None:
    with pytest.raises(AddressError, match=r"no backend serves ca:// in this session \(known: local\)"):
        env.run(env.cache.get(Address("ca", "X"), 1.0))
    assert Address("ca", "X") not in env.cache


def test_one_backend_instance_per_scheme(env: Env) -> None:
    env.run(env.cache.get(X, 1.0))
    env.run(env.cache.get(Y, 1.0))
    assert env.entry(X).backend is env.entry(Y).backend
    assert list(env.registry.loaded()) == ["local"]


# -- sweep -------------------------------------------------------------------
def test_sweep_drops_idle_entry_on_second_sweep(env: Env) -> None:
    env.run(env.cache.get(X, 1.0))
    assert env.on_loop(env.cache.sweep) == []  # first sweep only clears the activity flag
    assert X in env.cache
    assert env.on_loop(env.cache.sweep) == [X]
    assert X not in env.cache
    assert env.on_loop(env.cache.addresses) == []


def test_use_between_sweeps_keeps_entry(env: Env) -> None:
    env.run(env.cache.get(X, 1.0))
    env.run(env.cache.get(Y, 1.0))
    env.on_loop(env.cache.sweep)
    env.run(env.cache.get(X, 1.0))
    assert env.on_loop(env.cache.sweep) == [Y]
    assert X in env.cache
    assert env.on_loop(env.cache.sweep) == [X]


def test_entry_with_subscriber_is_never_dropped(env: Env) -> None:
    got: list[Reading] = []
    sub = env.subscribe(X, got)
    for _ in range(4):
        assert env.on_loop(env.cache.sweep) == []
    assert X in env.cache
    env.run(env.cache.unsubscribe(sub))
    sub.close()
    assert env.on_loop(env.cache.sweep) == []  # unsubscribe counted as use
    assert env.on_loop(env.cache.sweep) == [X]


# -- subscriptions -------------------------------------------------------------
def test_many_subscribers_share_one_upstream(env: Env) -> None:
    sinks: list[list[Reading]] = [[], [], []]
    subs = [env.subscribe(X, s) for s in sinks]
    entry = env.entry(X)
    assert entry.upstream_opens == 1
    assert entry.users == 3
    for s in sinks:
        wait_for(lambda s=s: len(s) >= 1)
    env.store.get("X").write(2.0)
    env.store.get("X").write(3.0)
    for s in sinks:
        wait_for(lambda s=s: [r.value for r in s][-1:] == [3.0])
    assert all([r.value for r in s] == [1.0, 2.0, 3.0] for s in sinks)
    assert env.entry(X).updates == 3
    for sub in subs:
        assert sub.address == "local://X"
        sub.close()


def test_late_subscriber_starts_from_current_value(env: Env) -> None:
    first: list[Reading] = []
    s1 = env.subscribe(X, first)
    wait_for(lambda: len(first) == 1)
    env.store.get("X").write(5.0)
    wait_for(lambda: len(first) == 2)
    late: list[Reading] = []
    s2 = env.subscribe(X, late)
    wait_for(lambda: len(late) == 1)
    assert late[0].value == 5.0
    assert env.entry(X).upstream_opens == 1
    s1.close()
    s2.close()


def test_unsubscribe_last_subscriber_closes_upstream(env: Env) -> None:
    a: list[Reading] = []
    b: list[Reading] = []
    sa = env.subscribe(X, a)
    sb = env.subscribe(X, b)
    wait_for(lambda: len(a) == 1 and len(b) == 1)

    env.run(env.cache.unsubscribe(sa))
    assert env.entry(X).upstream is not None  # b still listens
    env.store.get("X").write(2.0)
    wait_for(lambda: len(b) == 2)

    env.run(env.cache.unsubscribe(sb))
    entry = env.entry(X)
    assert entry.upstream is None and entry.users == 0
    updates = entry.updates
    env.store.get("X").write(3.0)
    env.settle()
    assert env.entry(X).updates == updates  # nothing arrives from upstream any more
    assert env.store.get("X")._listeners == []

    # a new subscriber opens a fresh upstream
    c: list[Reading] = []
    sc = env.subscribe(X, c)
    wait_for(lambda: len(c) >= 1)
    assert c[-1].value == 3.0
    assert env.entry(X).upstream_opens == 2
    for s in (sa, sb, sc):
        s.close()


def test_unsubscribe_of_unknown_subscription_is_harmless(env: Env) -> None:
    stray = Subscription("local://X", lambda r: None, KeepLatest())
    try:
        env.run(env.cache.unsubscribe(stray))
    finally:
        stray.close()


def test_failed_upstream_subscribe_closes_the_subscriber(env: Env) -> None:
    closed: list[Subscription] = []
    with pytest.raises(NotFoundError, match="no local PV named 'GHOST'"):
        env.subscribe(Address("local", "GHOST"), [], on_close=closed.append)
    assert len(closed) == 1 and closed[0].closed
    entry = env.entry(Address("local", "GHOST"))
    assert entry.users == 0 and entry.upstream is None


def test_removed_pv_disconnects_subscribers(env: Env) -> None:
    got: list[Reading] = []
    sub = env.subscribe(X, got)
    wait_for(lambda: len(got) == 1)
    env.store.remove("X")
    wait_for(lambda: len(got) == 2)
    assert got[-1].severity is Severity.DISCONNECTED and not got[-1].connected
    assert got[-1].status == "removed"
    assert env.entry(X).state is ChannelState.DISCONNECTED
    sub.close()


def test_monitor_follows_a_rehosted_pv(env: Env) -> None:
    got: list[Reading] = []
    sub = env.subscribe(X, got)
    try:
        wait_for(lambda: len(got) == 1)
        env.store.remove("X")
        wait_for(lambda: len(got) == 2)
        env.store.add(SoftPV("X", 7.0, Metadata()))
        env.store.get("X").write(8.0)
        wait_for(lambda: got[-1].value == 8.0, timeout=5.0)
    finally:
        sub.close()


def test_status_counts_users_updates_and_drops(env: Env) -> None:
    gate = threading.Event()
    entered = threading.Event()

    def slow(reading: Reading) -> None:
        entered.set()
        gate.wait(5.0)

    sub = env.run(env.cache.subscribe(Y, slow, KeepLatest()))
    try:
        assert entered.wait(2.0)  # holding the initial reading
        for v in range(1, 5):
            env.store.get("Y").write(v)
        env.settle()
        [st] = env.on_loop(env.cache.status)
        assert (st.address, st.state, st.users, st.updates) == ("local://Y", ChannelState.CONNECTED, 1, 5)
        assert (st.value, st.severity) == (4, Severity.NO_ALARM)
        assert st.dropped == 3 == sub.dropped
        assert "local://Y" in str(st) and "users=1" in str(st)
        with pytest.raises(dataclasses.FrozenInstanceError):
            st.users = 9  # type: ignore[misc]
        env.store.get("Y").write(99)
        env.settle()
        assert st.value == 4  # a snapshot, not a live view
    finally:
        gate.set()
        sub.close()


def test_status_is_sorted_by_address(env: Env) -> None:
    env.run(env.cache.get(Y, 1.0))
    env.run(env.cache.get(X, 1.0))
    assert [s.address for s in env.on_loop(env.cache.status)] == ["local://X", "local://Y"]


def test_close_closes_every_subscriber_and_upstream(env: Env) -> None:
    got: list[Reading] = []
    subs = [env.subscribe(X, got), env.subscribe(Y, got)]
    env.run(env.cache.close())
    assert all(s.closed for s in subs)
    assert env.on_loop(env.cache.addresses) == []
    assert env.store.get("X")._listeners == [] and env.store.get("Y")._listeners == []


class _CountingDict(dict):  # type: ignore[type-arg]
    """Counts the entries a sweep looks at (``get``; iteration counts every entry)."""

    looked = 0

    def get(self, key: Any, default: Any = None) -> Any:
        type(self).looked += 1
        return super().get(key, default)

    def items(self) -> Any:
        type(self).looked += len(self)
        return super().items()

    def values(self) -> Any:
        type(self).looked += len(self)
        return super().values()


def test_a_sweep_costs_what_changed_not_every_entry(env: Env) -> None:
    """5 000 channels with users and no traffic: the sweeps after the first look at none."""
    for i in range(5000):
        env.store.add(SoftPV(f"Q{i}", 0.0, Metadata()))
    subs = [env.subscribe(Address("local", f"Q{i}"), []) for i in range(5000)]
    try:
        env.on_loop(lambda: setattr(env.cache, "_entries", _CountingDict(env.cache._entries)))
        env.on_loop(env.cache.sweep)
        env.on_loop(env.cache.sweep)  # the first sweeps clear the flags of the 5 000 just used
        _CountingDict.looked = 0
        assert env.on_loop(env.cache.sweep) == []
        assert _CountingDict.looked == 0
        env.run(env.cache.get(X, 1.0))  # one use: the next two sweeps look at that one only
        assert env.on_loop(env.cache.sweep) == [] and env.on_loop(env.cache.sweep) == [X]
        assert _CountingDict.looked <= 4
        assert len(env.on_loop(env.cache.status)) == 5000  # every channel still reported
    finally:
        for s in subs:
            s.close()


class _RenewingLocal(LocalBackend):
    """The real local backend, saying it dropped a connection when asked to renew one
    (as the CA backend does for a channel libca would search again only after 10 s)."""

    def __init__(self, store: PVStore) -> None:
        super().__init__(store)
        self.renewed: list[str] = []

    def renew(self, name: str) -> bool:
        self.renewed.append(name)
        return name == "X"


def test_renew_reopens_the_upstream_of_a_renewed_channel_and_keeps_its_subscribers() -> None:
    e = Env()
    backend = _RenewingLocal(e.store)
    e.cache = ChannelCache(BackendRegistry({"local": lambda: backend}))
    got: list[Reading] = []
    try:
        assert e.run(e.cache.renew(X)) is False  # no backend loaded yet: nothing to renew
        sub = e.subscribe(X, got)
        e.subscribe(Y, [])
        wait_for(lambda: len(got) == 1)
        assert e.run(e.cache.renew(X)) is True and e.entry(X).upstream_opens == 2
        assert e.run(e.cache.renew(Y)) is False and e.entry(Y).upstream_opens == 1  # kept
        e.store.get("X").write(4.0)
        wait_for(lambda: got[-1].value == 4.0)  # the subscriber is on the new upstream
        assert e.entry(X).users == 1 and backend.renewed == ["X", "Y"]
        e.run(e.cache.unsubscribe(sub))
        assert e.run(e.cache.renew(X)) is True and e.entry(X).upstream is None  # no user: not reopened
    finally:
        e.run(e.cache.close())
        e.rt.shutdown()
