"""Unit tests for ctlshell.core._model: Severity, Reading, Metadata, severity_for."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from ctlshell.core import Metadata, Reading, Severity, severity_for


def test_severity_order_and_text() -> None:
    assert Severity.NO_ALARM < Severity.MINOR < Severity.MAJOR < Severity.INVALID < Severity.DISCONNECTED
    assert [int(s) for s in Severity] == [0, 1, 2, 3, 4]
    assert str(Severity.MAJOR) == "MAJOR"
    assert repr(Severity.MINOR) == "Severity.MINOR"
    assert max(Severity.MINOR, Severity.MAJOR) is Severity.MAJOR


def test_reading_defaults_and_frozen() -> None:
    before = time.time()
    r = Reading("ca://X", 1.0)
    assert before <= r.timestamp <= time.time()
    assert r.severity is Severity.NO_ALARM
    assert r.status == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 2.0  # type: ignore[misc]


@pytest.mark.parametrize("severity, connected", [
    (Severity.NO_ALARM, True), (Severity.MINOR, True), (Severity.MAJOR, True),
    (Severity.INVALID, True), (Severity.DISCONNECTED, False),
])
def test_reading_connected(severity: Severity, connected: bool) -> None:
    assert Reading("ca://X", None, severity=severity).connected is connected


def test_reading_age() -> None:
    r = Reading("ca://X", 1, timestamp=time.time() - 10.0)
    assert 10.0 <= r.age < 11.0


def test_reading_str_without_alarm() -> None:
    ts = time.mktime((2024, 5, 6, 7, 8, 9, 0, 0, -1)) + 0.25
    r = Reading("ca://BL:X", 1.5, timestamp=ts)
    assert str(r) == "ca://BL:X = 1.5 @ 2024-05-06 07:08:09.250"  # not today: the date too
    today = time.mktime(time.localtime()[:3] + (0, 0, 1, 0, 0, -1)) + 0.25
    assert str(Reading("ca://BL:X", 1.5, timestamp=today)) == "ca://BL:X = 1.5 @ 00:00:01.250"


def test_reading_str_with_alarm_and_status() -> None:
    ts = time.mktime((2024, 5, 6, 7, 8, 9, 0, 0, -1))
    r = Reading("ca://BL:X", 99.0, timestamp=ts, severity=Severity.MAJOR, status="HIHI")
    assert str(r) == "ca://BL:X = 99.0 @ 2024-05-06 07:08:09.000 [MAJOR HIHI]"
    r2 = Reading("ca://BL:X", "a", timestamp=ts, severity=Severity.INVALID)
    assert str(r2) == "ca://BL:X = a @ 2024-05-06 07:08:09.000 [INVALID]"


def test_metadata_defaults() -> None:
    m = Metadata()
    assert (m.dtype, m.count, m.access) == ("double", 1, "rw")
    assert m.control_limits is None and m.choices is None
    assert m.writable and not m.is_array


@pytest.mark.parametrize("access, writable", [("rw", True), ("w", True), ("r", False), ("", False)])
def test_metadata_writable(access: str, writable: bool) -> None:
    assert Metadata(access=access).writable is writable  # type: ignore[arg-type]


def test_metadata_is_array() -> None:
    assert Metadata(count=10).is_array
    assert not Metadata(count=1).is_array


ALARMS = Metadata(alarm_limits=(-10.0, 10.0), warning_limits=(-5.0, 5.0))


@pytest.mark.parametrize("value, expected", [
    (0.0, (Severity.NO_ALARM, "")),
    (4.99, (Severity.NO_ALARM, "")),
    (5.0, (Severity.MINOR, "HIGH")),
    (9.99, (Severity.MINOR, "HIGH")),
    (10.0, (Severity.MAJOR, "HIHI")),
    (1e9, (Severity.MAJOR, "HIHI")),
    (-5.0, (Severity.MINOR, "LOW")),
    (-10.0, (Severity.MAJOR, "LOLO")),
    (-1e9, (Severity.MAJOR, "LOLO")),
    (7, (Severity.MINOR, "HIGH")),
    (np.float32(12), (Severity.MAJOR, "HIHI")),
])
def test_severity_for_alarm_and_warning_limits(value: object, expected: tuple[Severity, str]) -> None:
    assert severity_for(value, ALARMS) == expected


def test_severity_for_only_warning_or_only_alarm() -> None:
    assert severity_for(100, Metadata(warning_limits=(0, 1))) == (Severity.MINOR, "HIGH")
    assert severity_for(0.5, Metadata(alarm_limits=(0, 1))) == (Severity.NO_ALARM, "")
    assert severity_for(-3, Metadata(alarm_limits=(0, 1))) == (Severity.MAJOR, "LOLO")


def test_severity_for_without_limits_is_no_alarm() -> None:
    assert severity_for(1e300, Metadata()) == (Severity.NO_ALARM, "")


@pytest.mark.parametrize("value, meta", [
    ("100", ALARMS),
    (b"100", ALARMS),
    (None, ALARMS),
    (100, dataclasses.replace(ALARMS, dtype="enum", choices=("a",))),
    (100, dataclasses.replace(ALARMS, dtype="string")),
    (np.array([100.0, 100.0]), dataclasses.replace(ALARMS, count=2)),
    (float("nan"), ALARMS),
])
def test_severity_for_non_numeric_scalar_raises_no_alarm(value: object, meta: Metadata) -> None:
    assert severity_for(value, meta) == (Severity.NO_ALARM, "")


def test_metadata_shows_as_a_table_in_a_notebook() -> None:
    html = Metadata(units="mm", precision=3, choices=None, control_limits=(-10.0, 10.0))._repr_html_()
    assert "<table" in html and "Metadata(" not in html
    assert "<th style='text-align:right'>units</th><td style='text-align:left'>mm</td>" in html
    assert "(-10.0, 10.0)" in html and "choices" not in html  # only what the server states
