"""Issue 17, the pure parts: how other control systems' states map onto Karabo's
``State``, value kinds from channel metadata, Timestamp and Hash refusing bad input.
(What Karabo itself does is asserted against the real Karabo in
``tests/integration/test_karabo_oracle.py``.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ctlshell.core import Metadata, Severity
from ctlshell.proxies import (
    AlarmCondition,
    BoolValue,
    Descriptor,
    EnumValue,
    Hash,
    State,
    StringValue,
    Timestamp,
    Value,
    is_set,
)
from ctlshell.proxies._enums import state_from_label, state_from_tango, state_of_motor

MODE = Descriptor("mode", Metadata(dtype="enum", choices=("OFF", "ON", "AUTO")))
FLAG = Descriptor("flag", Metadata(dtype="enum", choices=("False", "True")))


@pytest.mark.parametrize(("tango", "karabo"), [
    ("ON", State.ON), ("OFF", State.OFF), ("MOVING", State.MOVING), ("FAULT", State.ERROR),
    ("CLOSE", State.CLOSED), ("OPEN", State.OPENED), ("STANDBY", State.PASSIVE), ("INIT", State.INIT),
    ("ALARM", State.ACTIVE), ("DISABLE", State.DISABLED), ("UNKNOWN", State.UNKNOWN), ("garbage", State.UNKNOWN),
    ("DevState.RUNNING", State.RUNNING),
])
def test_tango_states_map_onto_karabo_states(tango: str, karabo: State) -> None:
    assert state_from_tango(tango) is karabo


def test_motor_flags_and_state_labels() -> None:
    assert state_of_motor(1, 0) is State.ON and state_of_motor(0, 0) is State.MOVING
    assert state_of_motor(1, 1) is State.MOVING and state_of_motor(None, None) is State.UNKNOWN
    assert state_of_motor(None, 0) is State.ON
    assert state_from_label("moving") is State.MOVING and state_from_label("Done") is None
    assert state_from_label(State.ON) is State.ON


def test_enum_channels_give_labels_and_boolean_enums_give_bools() -> None:
    mode = Value(1, 5.0, MODE)
    assert isinstance(mode, StringValue) and mode == "ON" and not mode == 1 and str(mode) == "ON"
    assert mode.descriptor is MODE and mode.timestamp == Timestamp.from_seconds(5.0)
    assert json.dumps({"m": mode}) == '{"m": "ON"}' and {mode: 1}["ON"] == 1
    flag = Value(1, None, FLAG)
    assert isinstance(flag, BoolValue) and flag == True and bool(flag)  # noqa: E712
    with pytest.raises(TypeError):
        flag + 1
    assert FLAG.validate(False) == 0 and MODE.validate("AUTO") == 2
    state = Value(State.MOVING, 1.0)
    assert isinstance(state, EnumValue) and state == State.MOVING and state.enum.isDerivedFrom(State.CHANGING)
    assert not is_set(Value(None, None, MODE)) and is_set(mode)


def test_comparisons_are_stamped_bools() -> None:
    a, b = Value(1.0, 10.0), Value(2.0, 20.0)
    result = a < b
    assert isinstance(result, BoolValue) and result and result.timestamp == b.timestamp
    assert (Value(np.arange(3), 1.0) > 0).tolist() == [False, True, True]  # arrays: bool arrays


def test_timestamp_refuses_what_it_cannot_read() -> None:
    for bad in ([1], object(), True):
        with pytest.raises(TypeError):
            Timestamp(bad)
    with pytest.raises(ValueError):
        Timestamp("not a date at all")
    with pytest.raises(TypeError):
        Timestamp(1.0) < 1.0  # noqa: B015 (Karabo's: only Timestamps are ordered)
    t = Timestamp.from_seconds(1700000000.25, tid=99)
    assert int(t.tid) == 99 and int(t.time_frac) == 25 * 10**16 and int(t.time_sec) == 1700000000
    assert Timestamp.from_seconds(-0.5).time == -(5 * 10**17)


def test_hash_refuses_bad_input_and_changes_nothing() -> None:
    h = Hash("a", 1)
    with pytest.raises(TypeError):
        h["a", ...] = ["not", "a", "dict"]
    with pytest.raises(TypeError):
        h.setElement("b", 2, ["attrs"])
    with pytest.raises(KeyError):
        h["missing", "attr"] = 1
    with pytest.raises(TypeError):
        h.fullyEqual({"a": 1})
    assert h.paths() == ["a"] and h["a", ...] == {}
    assert h == {"a": 1} and h.copy() == h and h.copy() is not h


def test_alarm_conditions_from_severities() -> None:
    assert AlarmCondition.from_severity(Severity.MINOR) is AlarmCondition.WARN
    assert AlarmCondition.from_severity(Severity.MAJOR) is AlarmCondition.ALARM
    assert AlarmCondition.from_severity(Severity.NO_ALARM) is AlarmCondition.NONE
    assert AlarmCondition.returnMostSignificant([]) is AlarmCondition.NONE
