"""The lane's encoder gives the bytes caproto's own EVENT_ADD response has."""

from __future__ import annotations

import numpy as np
import pytest

import caproto
from caproto import ChannelType
from caproto._commands import read_from_bytestream
from caproto._dbr import DBR_TIME_DOUBLE, TimeStamp

from ctlshell.host._ca_wire import DBR_DOUBLE, DBR_TIME_DOUBLE as TIME, alarm_status, event_header, payload

STAMP = 1_764_000_000.25  # a fraction caproto's microsecond conversion keeps exactly


def _caproto_bytes(data_type: int, values: list[float], count: int, subid: int, status: int, severity: int) -> bytes:
    metadata = None
    if data_type == TIME:
        metadata = DBR_TIME_DOUBLE(status=status, severity=severity, stamp=TimeStamp.from_unix_timestamp(STAMP))
    command = caproto.EventAddResponse(data=values, data_type=ChannelType(data_type), data_count=count,
                                       subscriptionid=subid, metadata=metadata, status=1)
    return bytes(command)


def _ours(data_type: int, value, data_count: int, subid: int, status: int, severity: int) -> bytes:
    body, count = payload(data_type, value, STAMP, severity, status, data_count)
    return event_header(data_type, len(body), count, subid) + body


@pytest.mark.parametrize("data_type", [DBR_DOUBLE, TIME])
@pytest.mark.parametrize("n", [1, 3, 1000, 70_000])
def test_matches_caproto(data_type: int, n: int) -> None:
    values = np.arange(n, dtype=float) * 0.5 - 7.25
    value = values if n > 1 else float(values[0])
    ours = _ours(data_type, value, 0, 4242, 3, 2)
    assert ours == _caproto_bytes(data_type, list(values), n, 4242, 3, 2)
    if n > 0xFFFF:
        assert ours[2:4] == b"\xff\xff"  # the extended header: count does not fit 16 bits


def test_a_shorter_subscription_gets_the_first_elements() -> None:
    values = np.linspace(0.0, 1.0, 50)
    assert _ours(TIME, values, 10, 7, 0, 0) == _caproto_bytes(TIME, list(values[:10]), 10, 7, 0, 0)


def test_decoded_by_caproto_with_nanoseconds() -> None:
    body, count = payload(TIME, 2.5, 1_764_000_000.123456789, 1, alarm_status("HIGH"), 0)
    raw = event_header(TIME, len(body), count, 9) + body
    remaining, command, _needed = read_from_bytestream(bytearray(raw), caproto.SERVER)
    assert not remaining
    assert command.subscriptionid == 9 and list(command.data) == [2.5]
    assert command.metadata.severity == 1 and command.metadata.status == int(caproto.AlarmStatus.HIGH)
    assert command.metadata.timestamp == pytest.approx(1_764_000_000.123456789, abs=1e-6)


def test_status_text_maps_as_write_reading_does() -> None:
    assert alarm_status("") == 0
    assert alarm_status("HIHI") == int(caproto.AlarmStatus.HIHI)
    assert alarm_status("motor stalled") == int(caproto.AlarmStatus.SOFT)
