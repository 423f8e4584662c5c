"""The pure parts of the tango:// backend: names, type checks, conversion of pytango
values and configuration, DevFailed messages. No server, no sockets: pytango objects
are stood in for by plain namespaces with the same attributes."""

from __future__ import annotations

import enum
import math
from types import SimpleNamespace as NS

import numpy as np
import pytest

from ctlshell.backends.tango._commands import check_argument, to_result, type_name
from ctlshell.backends.tango._convert import to_reading, to_spec
from ctlshell.backends.tango._errors import describe, to_error
from ctlshell.backends.tango._names import TangoName, attribute_name, command_name, parse_name
from ctlshell.backends.tango._types import TYPES, check_array, check_scalar
from ctlshell.core import (
    AddressError,
    ChannelTimeoutError,
    DeviceError,
    DisconnectedError,
    NotFoundError,
    Severity,
    ValidationError,
    parse_address,
)

NAMES = [
    ("sys/tg_test/1/double_scalar", TangoName(None, "sys/tg_test/1", "double_scalar")),
    ("SYS/TG_Test/1/Ampli", TangoName(None, "sys/tg_test/1", "Ampli")),
    ("host.example:10000/a/b/c/State", TangoName("host.example:10000", "a/b/c", "State")),
    ("127.0.0.1:1234/a/b-c/d_1/x#dbase=no", TangoName("127.0.0.1:1234", "a/b-c/d_1", "x", dbase=False)),
    ("a/b/c->Init", TangoName(None, "a/b/c", "Init", is_command=True)),
    ("127.0.0.1:1/a/b/c->Move#dbase=no", TangoName("127.0.0.1:1", "a/b/c", "Move", True, False)),
    ("a/b/c", TangoName(None, "a/b/c")),
]
BAD = ["a/b", "a/b/c/d/e", "a/b/c->", "a/b/c->1x", "a/b/c#dbase=maybe", "a/b/c/x y", "host:port/a/b/c/x"]


@pytest.mark.parametrize("text, expected", NAMES)
def test_names_parse_and_core_agrees(text, expected):
    assert parse_name(text) == expected
    assert parse_address(f"tango://{text}").name == text  # the core grammar accepts the same names


@pytest.mark.parametrize("text", BAD)
def test_malformed_names_are_refused_by_both_parsers(text):
    with pytest.raises(AddressError):
        parse_name(text)
    with pytest.raises(AddressError, match="malformed Tango address"):
        parse_address(f"tango://{text}")


def test_device_url_and_verbs_needing_a_member():
    assert parse_name("127.0.0.1:5/a/b/c/x#dbase=no").device_url == "tango://127.0.0.1:5/a/b/c#dbase=no"
    assert parse_name("h:1/a/b/c/x").device_url == "tango://h:1/a/b/c"
    assert str(parse_name("A/B/C->Init")) == "tango://a/b/c->Init"
    with pytest.raises(AddressError, match="needs the server's host:port"):
        parse_name("a/b/c/x#dbase=no")
    with pytest.raises(AddressError, match="names a device"):
        attribute_name("a/b/c")
    with pytest.raises(AddressError, match="is a command"):
        attribute_name("a/b/c->Init")
    with pytest.raises(AddressError, match="not a command address"):
        command_name("a/b/c/x")


DOUBLE, LONG, USHORT, BOOL, STRING, ENUM = (TYPES[c] for c in (5, 3, 6, 1, 8, 29))


def test_scalar_checks():
    assert check_scalar(3, DOUBLE, "x") == 3.0 and isinstance(check_scalar(3, DOUBLE, "x"), float)
    assert check_scalar(np.float32(2.5), DOUBLE, "x") == 2.5
    assert check_scalar(4.0, LONG, "x") == 4
    assert check_scalar(1, BOOL, "x") is True
    assert check_scalar("HIGH", ENUM, "x", choices=("OFF", "HIGH")) == 1
    for value, t in [("3", DOUBLE), (True, DOUBLE), (None, DOUBLE), (2.5, LONG), (2**31, LONG), (-1, USHORT),
                     ("yes", BOOL), (2, BOOL), (5, STRING), (b"x", STRING)]:
        with pytest.raises(ValidationError):
            check_scalar(value, t, "x")
    with pytest.raises(ValidationError, match=r"11.0 mm is outside the limits \[0.0, 10.0\] mm"):
        check_scalar(11, DOUBLE, "x", limits=(0.0, 10.0), units="mm")
    with pytest.raises(ValidationError, match="outside"):
        check_scalar(math.nan, DOUBLE, "x", limits=(0.0, 10.0))
    assert check_scalar(1e300, DOUBLE, "x", limits=(-math.inf, math.inf)) == 1e300
    with pytest.raises(ValidationError, match="not one of"):
        check_scalar(2, ENUM, "x", choices=("OFF", "ON"))


def test_array_checks():
    arr = check_array([1, 2, 3], USHORT, "x", ndim=1, max_shape=(4,))
    assert arr.dtype == np.uint16 and arr.tolist() == [1, 2, 3]
    image = check_array([[1.0, 2.0]], DOUBLE, "x", ndim=2, max_shape=(2, 2))
    assert image.shape == (1, 2) and image.dtype == np.float64
    assert check_array(["a", "b"], STRING, "x", ndim=1) == ["a", "b"]
    for value, ndim, shape in [([1, 2, 3], 1, (2,)), ([[1]], 1, None), ([1], 2, None), ("abc", 1, None),
                               ([1, "2"], 1, None), ([[1, 2, 3]], 2, (2, 2))]:
        with pytest.raises(ValidationError):
            check_array(value, USHORT, "x", ndim=ndim, max_shape=shape)
    with pytest.raises(ValidationError, match=r"x element \[1\]: -1 does not fit a ushort"):
        check_array([1, -1], USHORT, "x", ndim=1)


def test_command_arguments():
    assert check_argument(None, 0, "c") is None
    assert check_argument(2, 5, "c") == 2.0
    assert check_argument([1, 2], 13, "c").tolist() == [1.0, 2.0]
    assert check_argument(["a"], 16, "c") == ["a"]
    numbers, strings = check_argument(([1, 2], ["a"]), 17, "c")
    assert numbers.dtype == np.int32 and strings == ["a"]
    with pytest.raises(ValidationError, match="takes no argument"):
        check_argument(1, 0, "c")
    with pytest.raises(ValidationError, match="needs an argument of type double"):
        check_argument(None, 5, "c")
    with pytest.raises(ValidationError, match="expected a string"):
        check_argument(3, 8, "c")
    with pytest.raises(ValidationError, match="pair"):
        check_argument([1, 2, 3], 17, "c")
    assert (type_name(0), type_name(13), type_name(16), type_name(3)) == ("void", "double[]", "string[]", "long")


def _attr(value, quality=0, type_code=5, t=1_700_000_000.25):
    # a TimeVal: seconds, microseconds, nanoseconds (Tango attribute times have no nanoseconds)
    return NS(value=value, quality=quality, type=type_code,
              time=NS(tv_sec=int(t), tv_usec=round(t % 1 * 1e6), tv_nsec=0))


def test_readings_keep_the_device_timestamp_and_quality():
    r = to_reading("tango://a/b/c/x", _attr(1.5, quality=2))
    assert r.value == 1.5 and r.timestamp == 1_700_000_000.25
    assert (r.severity, r.status) == (Severity.MAJOR, "ALARM")
    assert to_reading("a", _attr(1.0, quality=4)).severity is Severity.MINOR
    invalid = to_reading("a", _attr(None, quality=1))
    assert invalid.value is None and invalid.severity is Severity.INVALID
    changing = to_reading("a", _attr(1.0, quality=3))
    assert changing.severity is Severity.NO_ALARM and changing.status == "CHANGING"
    class DevState(enum.IntEnum):  # what pytango gives for a State read
        ON = 0
        MOVING = 6

    assert to_reading("a", _attr(DevState.MOVING, type_code=19)).value == "MOVING"
    assert to_result(6, 19) == "MOVING" and to_result([1, 2], 16) == (1, 2)  # command results
    arr = to_reading("a", _attr(np.arange(3.0))).value
    with pytest.raises(ValueError):
        arr[0] = 1.0


def _info(**over):
    base = dict(data_type=5, data_format=0, max_dim_x=1, max_dim_y=0, format="%6.3f", unit="mm",
                min_value="-10", max_value="10", description="No description", writable=3, enum_labels=[],
                alarms=NS(min_alarm="Not specified", max_alarm="8", min_warning="-5", max_warning="5"))
    base.update(over)
    return NS(**base)


def test_attribute_configuration_as_metadata():
    spec = to_spec(_info())
    m = spec.meta
    assert (m.dtype, m.units, m.precision, m.control_limits, m.access) == ("double", "mm", 3, (-10.0, 10.0), "rw")
    assert m.alarm_limits == (-math.inf, 8.0) and m.warning_limits == (-5.0, 5.0) and m.description == ""
    bare = to_spec(_info(unit="No unit", format="%d", min_value="Not specified", max_value="Not specified",
                         writable=0, alarms=NS(min_alarm="", max_alarm="", min_warning="", max_warning=""))).meta
    assert (bare.units, bare.precision, bare.control_limits, bare.alarm_limits, bare.access) == \
        ("", None, None, None, "r")
    enum = to_spec(_info(data_type=29, enum_labels=["A", "B"], format="%d")).meta
    assert enum.dtype == "enum" and enum.choices == ("A", "B") and enum.precision is None
    image = to_spec(_info(data_type=6, data_format=2, max_dim_x=4, max_dim_y=3))
    assert image.meta.count == 12 and image.max_shape == (3, 4)
    with pytest.raises(ValidationError, match="shape"):
        image.check(np.zeros((4, 4)), "x")
    with pytest.raises(ValidationError, match="not supported"):
        to_spec(_info(data_type=19)).check("ON", "x")


def _failed(*stack):
    return NS(args=tuple(NS(reason=r, desc=d, origin="o", severity=0) for r, d in stack))


def test_devfailed_becomes_one_readable_line_and_the_right_class():
    exc = _failed(("CtlMotor_Limit", "target 500 mm\n is outside"), ("API_CommandFailed", "failed"))
    assert describe(exc) == "CtlMotor_Limit: target 500 mm is outside (API_CommandFailed)"
    err = to_error(exc, "tango://m/x/1->Move", "command")
    assert isinstance(err, DeviceError) and "CtlMotor_Limit: target 500 mm is outside" in str(err)
    assert isinstance(to_error(_failed(("API_DeviceTimedOut", "t")), "a", "read"), ChannelTimeoutError)
    assert isinstance(to_error(_failed(("API_AttrNotFound", "no x")), "a", "read"), NotFoundError)
    assert isinstance(to_error(_failed(("DB_DeviceNotDefined", "no dev")), "a", "read"), NotFoundError)
    assert isinstance(to_error(_failed(("TRANSIENT_ConnectFailed", "r"), ("API_CorbaException", "c")),
                               "a", "read"), DisconnectedError)


def test_event_error_stacks_are_read_like_devfailed():
    stack = _failed(("API_MissedEvents", "missed 12 events"), ("API_EventTimeout", "x")).args
    assert describe(stack) == "API_MissedEvents: missed 12 events (API_EventTimeout)"
    assert isinstance(to_error(stack, "a", "read"), DisconnectedError)


def test_polling_sees_changes_anywhere_in_a_large_array():
    from ctlshell.backends.tango._streams import _same
    from ctlshell.core import Reading

    big = np.zeros(100_000)
    changed = big.copy()
    changed[50_000] = 1.0  # repr() of either shows only the ends
    assert _same(Reading("a", big), Reading("a", big.copy()))
    assert not _same(Reading("a", big), Reading("a", changed))
    assert not _same(Reading("a", 1.0), Reading("a", 1.0, severity=Severity.MAJOR))
    assert not _same(Reading("a", 1), Reading("a", True)) and not _same(None, Reading("a", 1))


# -- issue 16 ---------------------------------------------------------------------------------
def test_new_reading_is_a_reading_with_the_same_fields():
    import dataclasses

    from ctlshell.backends.tango._convert import new_reading
    from ctlshell.core import Reading, Severity

    fast = new_reading("tango://a/b/c/x", 1.5, 2.0, Severity.MINOR, "WARNING")
    assert [f.name for f in dataclasses.fields(Reading)] == ["address", "value", "timestamp", "severity", "status"]
    assert fast == Reading("tango://a/b/c/x", 1.5, 2.0, Severity.MINOR, "WARNING")
    assert hash(fast) == hash(Reading("tango://a/b/c/x", 1.5, 2.0, Severity.MINOR, "WARNING"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.value = 2  # type: ignore[misc]


def test_read_with_write_is_read_only():
    spec = to_spec(_info(writable=1))
    assert spec.meta.access == "r" and not spec.meta.writable
    assert to_spec(_info(writable=3)).meta.access == "rw"


def test_state_severity():
    from ctlshell.backends.tango._convert import state_severity
    from ctlshell.core import Severity

    assert state_severity("FAULT", Severity.NO_ALARM, "") == (Severity.MAJOR, "FAULT")
    assert state_severity("ALARM", Severity.NO_ALARM, "") == (Severity.MINOR, "ALARM")
    assert state_severity("ON", Severity.NO_ALARM, "") == (Severity.NO_ALARM, "")
    assert state_severity("ALARM", Severity.INVALID, "INVALID") == (Severity.INVALID, "INVALID")


def _video(width, height, mode, pixels, endian=0, magic=0x5644454F):
    import struct

    return struct.pack("!IHHqiiHHHH", magic, 1, mode, 3, width, height, endian, 32, 0, 0) + pixels


def test_lima_video_image_decodes():
    import numpy as np

    from ctlshell.backends.tango import Encoded
    from ctlshell.core import ValidationError

    y8 = Encoded("VIDEO_IMAGE", _video(3, 2, 0, bytes(range(6))))
    assert np.array_equal(y8.image(), np.arange(6, dtype=np.uint8).reshape(2, 3))
    y16be = Encoded("VIDEO_IMAGE", _video(2, 1, 1, np.array([1, 515], ">u2").tobytes(), endian=1))
    assert y16be.image().tolist() == [[1, 515]] and y16be.image().dtype == np.uint16
    y32 = Encoded("VIDEO_IMAGE", _video(1, 2, 2, np.array([-1, 7], "<i4").tobytes()))
    assert y32.image().tolist() == [[-1], [7]]
    for bad, match in [(Encoded("JPEG", b"x"), "cannot decode"), (Encoded("VIDEO_IMAGE", b"short"), "header"),
                       (Encoded("VIDEO_IMAGE", _video(2, 2, 0, b"\0", magic=1)), "magic"),
                       (Encoded("VIDEO_IMAGE", _video(2, 2, 0, b"\0\0\0")), "needs 36 bytes"),
                       (Encoded("VIDEO_IMAGE", _video(2, 2, 6, b"\0" * 12)), "video mode 6")]:
        with pytest.raises(ValidationError, match=match):
            bad.image()


def test_encoded_writes_and_command_arguments_are_checked():
    from ctlshell.backends.tango._commands import check_argument
    from ctlshell.backends.tango._encoded import check_encoded
    from ctlshell.core import ValidationError

    assert check_encoded(("RAW", bytearray(b"ab")), "x") == ("RAW", b"ab")
    for bad in ("RAW", ("RAW", "text"), (1, b""), ("RAW", b"", 3)):
        with pytest.raises(ValidationError):
            check_encoded(bad, "x")
    assert check_argument("fault", 19, "x") == 8 and check_argument(0, 19, "x") == 0
    with pytest.raises(ValidationError, match="not a Tango state"):
        check_argument("PURPLE", 19, "x")
    assert check_argument(2, 29, "x") == 2
    with pytest.raises(ValidationError, match="DevEnum argument is its index"):
        check_argument("HIGH", 29, "x")
    assert check_argument(("JPEG", b"\xff"), 28, "x") == ("JPEG", b"\xff")


def test_database_patterns_and_device_properties_are_checked():
    from ctlshell.backends.tango._database import check_pattern, check_property, from_property
    from ctlshell.core import ValidationError

    assert check_pattern("sys/*/1") == "sys/*/1"
    for bad in ("a b", "", None, "x;y"):
        with pytest.raises(ValidationError):
            check_pattern(bad)
    assert check_property("gain", 2) == ["2"] and check_property("names", ("a", 1.5, True)) == ["a", "1.5", "True"]
    for name, value in (("1x", 1), ("x", []), ("x", [object()]), ("", "a")):
        with pytest.raises(ValidationError):
            check_property(name, value)
    assert from_property(["a"]) == "a" and from_property(["a", "b"]) == ("a", "b")
