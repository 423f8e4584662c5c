"""Unit tests for ctlshell.core._store: SoftPV and PVStore."""

from __future__ import annotations

import logging

import pytest

from ctlshell.core import Metadata, NotFoundError, PVStore, Reading, Severity, SoftPV, ValidationError


def make(name: str = "X", value: object = 1.0, **meta: object) -> SoftPV:
    return SoftPV(name, value, Metadata(**meta))  # type: ignore[arg-type]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Reading, object]] = []

    def __call__(self, reading: Reading, origin: object) -> None:
        self.calls.append((reading, origin))


def test_initial_reading() -> None:
    pv = make("BL:X", 3, dtype="long")
    rd = pv.read()
    assert rd.address == "local://BL:X"
    assert rd.value == 3 and type(rd.value) is int
    assert rd.severity is Severity.NO_ALARM
    assert pv.metadata.dtype == "long"
    assert pv.closed is False


def test_initial_value_is_coerced_and_alarmed() -> None:
    pv = make(value="ON", dtype="enum", choices=("OFF", "ON"))
    assert pv.read().value == 1
    hot = make(value=20.0, alarm_limits=(0.0, 10.0))
    assert (hot.read().severity, hot.read().status) == (Severity.MAJOR, "HIHI")


def test_invalid_initial_value_is_refused() -> None:
    with pytest.raises(ValidationError, match="BAD: 'x' is not a number"):
        make("BAD", "x")


def test_write_stores_and_tells_listeners_with_origin() -> None:
    pv = make()
    rec = Recorder()
    pv.add_listener(rec)
    origin = object()
    out = pv.write("2.5", origin=origin, timestamp=1234.5)
    assert out == pv.read()
    assert out.value == 2.5 and out.timestamp == 1234.5
    assert rec.calls == [(out, origin)]
    pv.write(3.0)
    assert rec.calls[-1][1] is None
    assert rec.calls[-1][0].value == 3.0


def test_write_sets_alarm_from_limits() -> None:
    pv = make(warning_limits=(-1.0, 1.0), alarm_limits=(-2.0, 2.0))
    assert pv.write(1.5).severity is Severity.MINOR
    assert pv.read().status == "HIGH"
    assert pv.write(-3).status == "LOLO"
    assert pv.write(0).severity is Severity.NO_ALARM


@pytest.mark.parametrize("bad", ["abc", 11.0, [1, 2]])
def test_refused_write_changes_nothing(bad: object) -> None:
    pv = make(value=5.0, control_limits=(0.0, 10.0))
    rec = Recorder()
    pv.add_listener(rec)
    before = pv.read()
    with pytest.raises(ValidationError):
        pv.write(bad)
    assert pv.read() is before
    assert rec.calls == []


@pytest.mark.parametrize("access", ["r", ""])
def test_read_only_refuses_client_writes_only(access: str) -> None:
    pv = make("RO", 1.0, access=access)
    rec = Recorder()
    pv.add_listener(rec)
    before = pv.read()
    with pytest.raises(ValidationError, match="RO is read-only"):
        pv.write(2.0, check_access=True)
    assert pv.read() is before and rec.calls == []
    assert pv.write(2.0).value == 2.0  # the owner can still write


def test_writable_pv_accepts_client_writes() -> None:
    assert make(access="w").write(4.0, check_access=True).value == 4.0


def test_broken_listener_does_not_undo_write_or_starve_others(caplog: pytest.LogCaptureFixture) -> None:
    pv = make()
    rec = Recorder()

    def broken(reading: Reading, origin: object) -> None:
        raise RuntimeError("listener bug")

    pv.add_listener(broken)
    pv.add_listener(rec)
    with caplog.at_level(logging.ERROR, logger="ctlshell.core._store"):
        out = pv.write(7.0)
    assert pv.read().value == 7.0
    assert rec.calls == [(out, None)]
    assert any("listener of X failed" in r.getMessage() for r in caplog.records)


def test_remove_listener() -> None:
    pv = make()
    rec = Recorder()
    pv.add_listener(rec)
    pv.remove_listener(rec)
    pv.remove_listener(rec)  # removing twice is harmless
    pv.write(2.0)
    assert rec.calls == []


def test_set_alarm_keeps_value_and_tells_listeners() -> None:
    pv = make(value=4.0)
    rec = Recorder()
    pv.add_listener(rec)
    out = pv.set_alarm(Severity.INVALID, "COMM")
    assert (out.value, out.severity, out.status) == (4.0, Severity.INVALID, "COMM")
    assert pv.read() is out
    assert rec.calls == [(out, None)]


def test_set_alarm_survives_broken_listener(caplog: pytest.LogCaptureFixture) -> None:
    """A listener that raises neither escapes to the caller nor keeps the next listener
    (another server mirroring the PV) from hearing of the alarm; the failure is logged."""
    pv = make()
    rec = Recorder()

    def broken(reading: Reading, origin: object) -> None:
        raise RuntimeError("listener bug")

    pv.add_listener(broken)
    pv.add_listener(rec)
    with caplog.at_level(logging.ERROR, logger="ctlshell.core._store"):
        out = pv.set_alarm(Severity.MAJOR, "FAULT")  # must not raise
    assert (out.severity, out.status) == (Severity.MAJOR, "FAULT") and pv.read() is out
    assert rec.calls == [(out, None)]
    (record,) = [r for r in caplog.records if "listener of" in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


# -- PVStore -------------------------------------------------------------------
def test_store_add_get_contains_names_iter() -> None:
    store = PVStore()
    a = store.add(make("B"))
    b = store.add(make("A"))
    assert store.get("B") is a
    assert "A" in store and "C" not in store
    assert store.names() == ["A", "B"]
    assert set(store) == {a, b}


def test_store_refuses_duplicates_and_keeps_first() -> None:
    store = PVStore()
    first = store.add(make("X", 1.0))
    with pytest.raises(ValidationError, match="X is already hosted"):
        store.add(make("X", 2.0))
    assert store.get("X") is first


def test_store_get_unknown_is_not_found_with_readable_message() -> None:
    store = PVStore()
    store.add(make("HERE"))
    with pytest.raises(NotFoundError) as exc:
        store.get("THERE")
    assert isinstance(exc.value, KeyError)
    assert str(exc.value) == "no local PV named 'THERE'; hosted here: ['HERE']"


def test_remove_marks_closed_and_refuses_later_writes() -> None:
    store = PVStore()
    pv = store.add(make("X"))
    assert store.remove("X") is pv
    assert pv.closed
    assert "X" not in store
    with pytest.raises(NotFoundError, match="X is no longer hosted"):
        pv.write(2.0)
    with pytest.raises(NotFoundError, match="X is not hosted here"):
        store.remove("X")
    store.add(make("X"))  # the name is free again


def test_watch_and_unwatch() -> None:
    store = PVStore()
    added: list[str] = []
    removed: list[str] = []

    def on_add(pv: SoftPV) -> None:
        added.append(pv.name)

    def on_remove(pv: SoftPV) -> None:
        removed.append(pv.name)

    store.watch(on_add, on_remove)
    store.add(make("A"))
    store.remove("A")
    store.unwatch(on_add, on_remove)
    store.add(make("B"))
    store.remove("B")
    assert added == ["A"] and removed == ["A"]
