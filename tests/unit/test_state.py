"""Unit tests for ctlshell.host._state: the SQLite journal and persisted values."""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ctlshell.core import Client, Metadata, Reading, SoftPV, ValidationError
from ctlshell.host._state import JournalEntry, StateFile
from ..waiting import wait_for

CA = Client("ca", "ws1", "alice")
PVA = Client("pva", "ws2", "bob")


def pv(name: str = "BL:X", value: object = 0.0, **meta: object) -> SoftPV:
    return SoftPV(name, value, Metadata(**meta))  # type: ignore[arg-type]


def rd(value: object, stamp: float = 1000.0) -> Reading:
    return Reading("local://BL:X", value, stamp)


@pytest.fixture
def state() -> Iterator[StateFile]:
    s = StateFile()
    yield s
    s.close()


def rows_on_disk(path: Path, scope: str) -> dict[str, str]:
    """What another process would see in the file now."""
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT key, value FROM persist WHERE scope = ?", (scope,)).fetchall())
    finally:
        db.close()


# -- the journal ---------------------------------------------------------------------
def test_record_and_read_back(state: StateFile) -> None:
    x = pv("BL:X")
    state.record(x, CA, rd(1.0, 100.0), rd(2.5, 101.0))
    (entry,) = state.journal()
    assert isinstance(entry, JournalEntry)
    assert entry == JournalEntry(101.0, "ca", "ws1", "alice", "BL:X", 1.0, 2.5)
    assert "alice@ws1 (ca)" in str(entry) and "BL:X: 1.0 -> 2.5" in str(entry)


def test_journal_filter_and_limit_keep_oldest_first(state: StateFile) -> None:
    x, y = pv("BL:X"), pv("BL:Y")
    for i in range(6):
        state.record(x if i % 2 == 0 else y, CA if i < 3 else PVA, rd(i), rd(i + 1, 100.0 + i))
    everything = state.journal()
    assert [e.new for e in everything] == [1, 2, 3, 4, 5, 6]
    assert [e.pv for e in everything] == ["BL:X", "BL:Y"] * 3
    assert [e.new for e in state.journal("BL:X")] == [1, 3, 5]
    assert [e.new for e in state.journal(limit=2)] == [5, 6]  # the last two, oldest first
    assert [e.new for e in state.journal("BL:Y", limit=2)] == [4, 6]
    assert [e.protocol for e in state.journal("BL:Y")] == ["ca", "pva", "pva"]
    assert state.journal("BL:Z") == []
    assert state.journal(limit=0) == []
    assert [e.new for e in state.journal(limit=100)] == [1, 2, 3, 4, 5, 6]


def test_journal_order_is_insertion_not_timestamp(state: StateFile) -> None:
    """Oldest first means in the order accepted, even if a client clock stamps backwards."""
    x = pv()
    state.record(x, CA, rd(0), rd(1, 200.0))
    state.record(x, CA, rd(1), rd(2, 100.0))
    assert [e.new for e in state.journal()] == [1, 2]


def test_numpy_values_round_trip(state: StateFile) -> None:
    x = pv("BL:W", np.zeros(3), count=3)
    state.record(x, CA, rd(np.zeros(3)), rd(np.array([1.5, -2.0, 3.25])))
    state.record(x, CA, rd(np.float64(1.5)), rd(np.int32(7)))
    first, second = state.journal()
    assert first.old == [0.0, 0.0, 0.0] and first.new == [1.5, -2.0, 3.25]
    assert second.old == 1.5 and type(second.old) is float
    assert second.new == 7 and type(second.new) is int


def test_nan_and_inf_round_trip(state: StateFile) -> None:
    x = pv()
    state.record(x, CA, rd(math.nan), rd(math.inf))
    state.record(x, CA, rd(np.float64(-math.inf)), rd(np.array([1.0, math.nan])))
    a, b = state.journal()
    assert math.isnan(a.old) and a.new == math.inf
    assert b.old == -math.inf
    assert b.new[0] == 1.0 and math.isnan(b.new[1])


def test_strings_and_enum_indices_round_trip(state: StateFile) -> None:
    s = pv("BL:S", "", dtype="string")
    state.record(s, CA, rd(""), rd("hello 'world' \"x\""))
    e = pv("BL:E", 0, dtype="enum", choices=("Off", "On"))
    state.record(e, CA, rd(0), rd(1))
    a, b = state.journal()
    assert (a.old, a.new) == ("", "hello 'world' \"x\"")
    assert (b.old, b.new) == (0, 1)


def test_string_that_reads_nan_round_trips_as_a_string(state: StateFile) -> None:
    s = pv("BL:S", "", dtype="string")
    state.record(s, CA, rd("inf"), rd("nan"))
    (entry,) = state.journal()
    assert (entry.old, entry.new) == ("inf", "nan")


def test_python_client_fields(state: StateFile) -> None:
    state.record(pv(), Client(), rd(0), rd(1))
    (entry,) = state.journal()
    assert (entry.protocol, entry.host, entry.user) == ("python", "", "")
    assert "?@? (python)" in str(entry)


# -- persisted values ----------------------------------------------------------------
def test_save_is_not_in_the_file_until_flush(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    s = StateFile(path, flush_period=60.0)
    try:
        s.save("daemon", "temp", 295.5, 10.0)
        s.save("daemon", "temp", 296.5, 11.0)  # newest value per key
        assert s.load("daemon") == {}
        assert rows_on_disk(path, "daemon") == {}
        s.flush()
        assert s.load("daemon") == {"temp": (296.5, 11.0)}
        assert rows_on_disk(path, "daemon") == {"temp": "296.5"}
    finally:
        s.close()


def test_save_reaches_the_file_within_flush_period(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    s = StateFile(path, flush_period=0.05)
    try:
        t = time.monotonic()
        s.save("d", "a", [1, 2], 5.0)
        wait_for(lambda: s.load("d") != {}, timeout=2.0)
        assert time.monotonic() - t >= 0.04
        assert s.load("d") == {"a": ([1, 2], 5.0)}
        assert rows_on_disk(path, "d") == {"a": "[1, 2]"}
        s.save("d", "b", "x", 6.0)  # a second flush is scheduled after the first
        wait_for(lambda: "b" in s.load("d"), timeout=2.0)
        assert s.load("d") == {"a": ([1, 2], 5.0), "b": ("x", 6.0)}
    finally:
        s.close()


def test_load_is_per_scope(state: StateFile) -> None:
    state.save("one", "k", 1, 1.0)
    state.save("two", "k", 2, 2.0)
    state.save("two", "j", np.array([1.0, math.nan]), 3.0)
    state.flush()
    assert state.load("one") == {"k": (1, 1.0)}
    two = state.load("two")
    assert two["k"] == (2, 2.0)
    assert two["j"][0][0] == 1.0 and math.isnan(two["j"][0][1])
    assert state.load("three") == {}


def test_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    s = StateFile(path, flush_period=60.0)
    s.record(pv("BL:X"), CA, rd(1.0), rd(2.0, 50.0))
    s.save("daemon", "temp", np.float64(4.5), 50.0)
    s.save("daemon", "mode", 1, 51.0)
    s.close()  # flushes the pending values
    again = StateFile(path)
    try:
        assert again.load("daemon") == {"temp": (4.5, 50.0), "mode": (1, 51.0)}
        assert again.journal() == [JournalEntry(50.0, "ca", "ws1", "alice", "BL:X", 1.0, 2.0)]
        again.record(pv("BL:X"), PVA, rd(2.0), rd(3.0, 60.0))
        assert [e.new for e in again.journal()] == [2.0, 3.0]
    finally:
        again.close()


def test_close_is_idempotent_and_flushes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    s = StateFile(path, flush_period=60.0)
    s.save("d", "k", "v", 1.0)
    s.close()
    assert s.closed
    s.close()
    assert rows_on_disk(path, "d") == {"k": '"v"'}
    # after close, writes are ignored quietly
    s.record(pv(), CA, rd(0), rd(1))
    s.save("d", "k", "other", 2.0)
    s.flush()
    assert rows_on_disk(path, "d") == {"k": '"v"'}


def test_close_cancels_the_flush_timer(tmp_path: Path) -> None:
    s = StateFile(tmp_path / "state.db", flush_period=0.05)
    s.save("d", "k", 1, 1.0)
    s.close()
    time.sleep(0.1)  # the cancelled timer must not touch the closed database
    assert s.closed


def test_memory_state_file(state: StateFile) -> None:
    assert state.path == ":memory:"
    state.save("d", "k", 1, 1.0)
    state.flush()
    assert state.load("d") == {"k": (1, 1.0)}


def test_path_in_a_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "state.db"
    with pytest.raises(ValidationError, match="does not exist"):
        StateFile(path)
    assert not (tmp_path / "no").exists()


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    text = "these are my notes, not a database\n" * 100
    path.write_text(text)
    with pytest.raises(ValidationError, match=f"state file {path} cannot be used"):
        StateFile(path)
    assert path.read_text() == text


def test_a_foreign_sqlite_file_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE journal (entry TEXT)")
    db.commit()
    db.close()
    with pytest.raises(ValidationError, match="state file"):
        s = StateFile(path)
        try:
            s.record(pv(), CA, rd(0), rd(1))
        finally:
            s.close()
