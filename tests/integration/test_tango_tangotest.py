"""Issue 16: ctlshell against Debian's C++ TangoTest (``sys/tg_test/1`` in the run's
embedded database), compared with bare pytango in the same process, plus what
TangoTest lacks on the ctlshell test device (DevEncoded, late change events,
State arguments)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import tango

import ctlshell
from ctlshell import KeepLast, Severity
from ctlshell.core import DeviceError, PutRefusedError, ValidationError
from ctlshell.proxies import connect_device, disconnect_device

from ..waiting import wait_for
from .tango_fixtures import device

QUALITY = {tango.AttrQuality.ATTR_VALID: Severity.NO_ALARM, tango.AttrQuality.ATTR_WARNING: Severity.MINOR,
           tango.AttrQuality.ATTR_ALARM: Severity.MAJOR, tango.AttrQuality.ATTR_INVALID: Severity.INVALID,
           tango.AttrQuality.ATTR_CHANGING: Severity.NO_ALARM}
#: attributes whose read fails on TangoTest (by design)
FAILING = {"no_value": "API_AttrValueNotSet", "throw_exception": "exception test"}


@pytest.fixture(scope="module")
def bare(tangotest):
    """Bare pytango on TangoTest, in this process."""
    return tango.DeviceProxy(tangotest.address().removeprefix("tango://"))


def _same(a, b) -> bool:
    return bool(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))


def test_every_readable_attribute_reads_as_bare_pytango(tangotest, bare):
    """Acceptance 1: value, dtype, shape, timestamp and quality of every attribute."""
    names = list(bare.get_attribute_list())
    assert len(names) > 60
    compared = 0
    for name in names:
        if bare.get_attribute_config(name).writable == tango.AttrWriteType.WRITE:
            continue  # write-only: nothing to read
        if name in FAILING:
            with pytest.raises(DeviceError, match=FAILING[name]):
                ctlshell.get(tangotest.address(name))
            continue
        before = bare.read_attribute(name)
        reading = ctlshell.get(tangotest.address(name))
        after = bare.read_attribute(name)
        value, expected = reading.value, before.value
        assert before.time.totime() <= reading.timestamp <= after.time.totime(), name
        assert reading.severity is QUALITY[before.quality], name
        if isinstance(expected, np.ndarray):
            assert isinstance(value, np.ndarray) and value.dtype == expected.dtype, name
            assert value.shape == expected.shape, name
        elif isinstance(expected, tango.DevState):
            assert value == expected.name
            continue
        else:  # a python scalar, or a tuple (of tuples) of str
            assert type(value) is type(expected), name
            assert np.shape(value) == np.shape(expected), name
        if _same(before.value, after.value):  # a value that did not change meanwhile
            assert _same(value, expected), name
            compared += 1
    assert compared > 50


# attribute -> a value to write; TangoTest's long_image is left out: its write
# crashes TangoTest 9.3.4 itself (SIGSEGV with bare pytango too)
WRITES = {
    "boolean_scalar": True, "double_scalar": -2.5, "float_scalar": 0.5, "long64_scalar": -2**40,
    "long_scalar": -70000, "short_scalar": -300, "string_scalar": "beam on", "uchar_scalar": 200,
    "ulong64_scalar": 2**63, "ulong_scalar": 2**31, "ushort_scalar": 60000, "double_scalar_w": 4.25,
    "long_scalar_w": 11, "short_scalar_w": 12, "ampli": 1.5,
    "boolean_spectrum": [True, False], "double_spectrum": [1.0, 2.0, 3.0], "float_spectrum": [0.25],
    "long_spectrum": [1, -2], "short_spectrum": [3, 4], "string_spectrum": ["a", "b"],
    "uchar_spectrum": [1, 255], "ushort_spectrum": [65535],
    "boolean_image": [[True], [False]], "double_image": [[1.0, 2.0], [3.0, 4.0]], "float_image": [[0.5]],
    "short_image": [[1, 2, 3]], "string_image": [["a", "b"], ["c", "d"]], "uchar_image": [[7]],
    "ushort_image": [[1], [2]],
}


def test_every_writable_type_written_and_read_back(tangotest, bare):
    """Acceptance 1: each writable type, written by ctlshell; the device's setpoint read by bare pytango."""
    writable = {n for n in bare.get_attribute_list()
                if bare.get_attribute_config(n).writable in (tango.AttrWriteType.READ_WRITE,
                                                             tango.AttrWriteType.WRITE)}
    types = {bare.get_attribute_config(n).data_type for n in WRITES}
    assert set(WRITES) <= writable and len(types) >= 10
    for name, value in WRITES.items():
        ctlshell.put(tangotest.address(name), value, wait=True)
        assert _same(bare.read_attribute(name).w_value, value), name
    with pytest.raises(ValidationError, match="does not fit a uchar"):
        ctlshell.put(tangotest.address("uchar_scalar"), 256)
    assert bare.read_attribute("uchar_scalar").w_value == 200  # nothing was sent


def test_read_with_write_is_read_only(tangotest, bare):
    """Acceptance 1: READ_WITH_WRITE attributes are read-only in info and proxies."""
    before = bare.read_attribute("double_scalar_rww").w_value  # its read part follows double_scalar
    assert ctlshell.info(tangotest.address("double_scalar_rww")).access == "r"
    assert ctlshell.info(tangotest.address("double_scalar")).access == "rw"
    assert ctlshell.info(tangotest.address("double_scalar_w")).access == "w"
    with pytest.raises(PutRefusedError, match="read-only"):
        ctlshell.put(tangotest.address("double_scalar_rww"), 1.0)
    from ctlshell.widgets._kinds import control_kind  # what a widget offers for it: no control

    with pytest.raises(ValidationError, match="read-only"):
        control_kind("rww", ctlshell.info(tangotest.address("double_scalar_rww")))
    assert control_kind("rw", ctlshell.info(tangotest.address("double_scalar"))).kind
    dev = connect_device(tangotest.address())
    assert dev._schema.properties["double_scalar_rww"].access_mode.lower() == "readonly"
    try:
        with pytest.raises(ValidationError):
            dev.double_scalar_rww = 2.0
    finally:
        disconnect_device(dev)
    assert bare.read_attribute("double_scalar_rww").w_value == before  # no write reached the device


# command -> (argument, expected result)
COMMANDS = {
    "DevBoolean": (True, True), "DevDouble": (3.0, 3.0), "DevFloat": (0.5, 0.5), "DevLong": (-5, -5),
    "DevLong64": (2**40, 2**40), "DevShort": (-7, -7), "DevString": ("über", "über"), "DevULong": (2**31, 2**31),
    "DevULong64": (2**63, 2**63), "DevUShort": (65535, 65535), "DevVarCharArray": ([1, 2], [1, 2]),
    "DevVarDoubleArray": ([1.5, 2.5], [1.5, 2.5]), "DevVarFloatArray": ([0.5], [0.5]),
    "DevVarLong64Array": ([2**40], [2**40]), "DevVarLongArray": ([1, -1], [1, -1]),
    "DevVarShortArray": ([3], [3]), "DevVarStringArray": (["a"], ["a"]), "DevVarULong64Array": ([1], [1]),
    "DevVarULongArray": ([2], [2]), "DevVarUShortArray": ([4], [4]),
}


def test_every_command_with_its_argument_types(tangotest):
    """Acceptance 1: from ctlshell.command and from a proxy; bad arguments refused before sending."""
    dev = connect_device(tangotest.address())
    try:
        for name, (argument, expected) in COMMANDS.items():
            assert _same(ctlshell.command(tangotest.address("->" + name))(argument), expected), name
            assert _same(getattr(dev, name)(argument), expected), name
        assert dev.DevDouble(3.0) == 3.0
        assert dev.DevVarStringArray(["a"]) == ("a",)
        assert ctlshell.command(tangotest.address("->DevVarLongStringArray"))(([1, 2], ["x"])) is not None
        assert dev.DevVoid() is None
        for call, match in [(lambda: dev.DevShort(70000), "does not fit a short"),
                            (lambda: dev.DevString(3), "expected a string"),
                            (lambda: dev.DevDouble(), "needs an argument of type double"),
                            (lambda: dev.DevDouble(1.0, 2.0), "takes one argument"),
                            (lambda: dev.DevVarLongArray("1,2"), "one-dimensional sequence"),
                            (lambda: dev.DevVoid(1), "takes no argument")]:
            with pytest.raises(ValidationError, match=match):
                call()
    finally:
        disconnect_device(dev)


def test_connect_device_with_failing_attributes(tangotest, bare, caplog):
    """Acceptance 2: under 2 s; no_value INVALID with the device's error; the rest works."""
    started = time.monotonic()
    dev = connect_device(tangotest.address())
    took = time.monotonic() - started
    try:
        assert took < 2.0, took
        assert dev.no_value.severity is Severity.INVALID and not dev.no_value.is_set
        assert "API_AttrValueNotSet" in dev.no_value.status
        assert "exception test" in dev.throw_exception.status
        assert "no_value" in caplog.text and "throw_exception" in caplog.text  # it says which failed
        assert dev.double_scalar.severity is Severity.NO_ALARM
        dev.short_scalar = 17
        assert bare.read_attribute("short_scalar").w_value == 17
        assert dev.State.value in ("RUNNING", "ON", "FAULT", "ALARM")
        assert dev.Status.value.startswith("The device is in")
    finally:
        disconnect_device(dev)


def test_attribute_configuration_changed_by_another_client_is_followed(tangotest, bare):
    """Acceptance 3: max_value raised then lowered by bare pytango; followed within 1 s."""
    address = tangotest.address("double_scalar")

    def set_max(value: str) -> None:
        config = bare.get_attribute_config("double_scalar")
        config.max_value = value
        bare.set_attribute_config(config)

    ctlshell.put(address, 10.0, wait=True)  # the configuration is known now
    try:
        set_max("100")
        time.sleep(1.0)
        with pytest.raises(ValidationError, match=r"outside the limits \[-inf, 100.0\]"):
            ctlshell.put(address, 150.0)
        assert bare.read_attribute("double_scalar").w_value == 10.0
        set_max("200")
        time.sleep(1.0)
        ctlshell.put(address, 150.0, wait=True)  # allowed by the device: sent
        assert bare.read_attribute("double_scalar").w_value == 150.0
        set_max("120")
        time.sleep(1.0)
        with pytest.raises(ValidationError, match=r"outside the limits \[-inf, 120.0\]"):
            ctlshell.put(address, 130.0)
        assert bare.read_attribute("double_scalar").w_value == 150.0
        assert ctlshell.info(address).control_limits == (float("-inf"), 120.0)
    finally:
        set_max("Not specified")


def test_a_polled_monitor_switches_to_events(tango_servers):
    """Acceptance 4: within 2 s of the device sending change events, info().updates says so."""
    server = tango_servers("db")
    dev = device(server)
    late = server.address(dev, "late_double")
    seen: list = []
    with ctlshell.monitor(late, seen.append, policy=KeepLast(100)):
        wait_for(lambda: seen, 5, "the first polled value")
        assert ctlshell.info(late).updates.startswith("polling every")
        ctlshell.command(server.address(dev, "->EnableEvents"))()
        switched = time.monotonic()
        wait_for(lambda: ctlshell.info(late).updates.startswith("change events"), 2.0,
                 "the switch to change events", step=0.05)
        assert time.monotonic() - switched < 2.0
        ctlshell.command(server.address(dev, "->SetLate"))(5.0)
        wait_for(lambda: seen[-1].value == 5.0, 5, "the change event")


def test_devencoded_and_state_arguments(tango_servers):
    """Acceptance 5 (DevEncoded write and read back, LImA's VIDEO_IMAGE decoded) and
    State command arguments by label."""
    from ctlshell.backends.tango import Encoded

    server = tango_servers("db")
    dev = device(server)
    encoded = server.address(dev, "encoded")
    ctlshell.put(encoded, ("RAW", b"\x01\x02\xff"), wait=True)
    value = ctlshell.get(encoded).value
    assert value == Encoded("RAW", b"\x01\x02\xff") and value.format == "RAW"
    other = tango.DeviceProxy(server.address(dev).removeprefix("tango://"))
    fmt, data = other.read_attribute("encoded", extract_as=tango.ExtractAs.Bytes).value
    assert (fmt, bytes(data)) == ("RAW", b"\x01\x02\xff")  # what another client sees
    with pytest.raises(ValidationError, match="pair"):
        ctlshell.put(encoded, "RAW")
    with pytest.raises(ValidationError, match="str format, bytes data"):
        ctlshell.put(encoded, ("RAW", [1, 2]))
    image = ctlshell.get(server.address(dev, "lima_image")).value.image()
    assert image.dtype == np.uint16 and image.shape == (3, 4)
    assert np.array_equal(image, np.arange(12).reshape(3, 4))
    with pytest.raises(ValidationError, match="cannot decode"):
        value.image()
    force = ctlshell.command(server.address(dev, "->ForceState"))
    assert force("standby") == "STANDBY" and force("ON") == "ON"
    with pytest.raises(ValidationError, match="not a Tango state"):
        force("PURPLE")
    assert ctlshell.get(server.address(dev, "State")).value == "ON"


def test_database_listing_and_device_properties(tangotest, tango_servers):
    """Devices, classes and servers listed by pattern; device properties read, shown by
    info and written, checked as an independent pytango Database client sees them."""
    from ctlshell import proxies
    from ctlshell.proxies import device_properties, set_device_property, tango_classes, tango_devices

    server = tango_servers("db")
    host = tangotest.database.host
    assert "sys/tg_test/1" in tango_devices("sys/*", database=host)
    assert tango_devices("sys/tg_test/*", database=host) == ["sys/tg_test/1"]
    assert device(server) in tango_devices(f"test/ctl{server.uid}/*", database=host)
    assert tango_devices("nosuch/*", database=host) == []
    assert "TangoTest" in tango_classes("Tango*", database=host) and "CtlTestDevice" in tango_classes(database=host)
    assert tangotest.server in proxies.tango_servers("TangoTest/*", database=host)
    assert server.server in proxies.tango_servers("CtlShellTest/*")  # TANGO_HOST when no database is named
    with pytest.raises(ValidationError, match="pattern"):
        tango_devices("sys/tg test")
    with pytest.raises(ValidationError, match="host:port"):
        tango_devices("*", database="nowhere")

    address = tangotest.address()
    props = device_properties(address)
    assert props["beamline"] == "BL-T" and props["gains"] == ("1", "2", "4")
    assert "beamline='BL-T'" in ctlshell.info(address).description
    assert "TangoTest device of server " + tangotest.server in ctlshell.info(address).description
    db = tango.Database(*host.split(":"))
    set_device_property(address, "beamline", "BL-U")
    set_device_property(connect_device(address), "offsets", [0.5, 1])
    assert db.get_device_property("sys/tg_test/1", ["beamline", "offsets"]) == {
        "beamline": ["BL-U"], "offsets": ["0.5", "1"]}
    assert device_properties(address)["offsets"] == ("0.5", "1")
    for name, value, match in [("bad name", 1, "property name"), ("x", [], "empty"), ("x", {"a": 1}, "strings or numbers"),
                               ("x", [1, None], "strings or numbers")]:
        with pytest.raises(ValidationError, match=match):
            set_device_property(address, name, value)
    with pytest.raises(ValidationError, match="Tango devices"):
        device_properties("ca://X:")
    assert "x" not in device_properties(address)  # nothing was written
    set_device_property(address, "beamline", "BL-T")


def test_state_and_status_are_first_class_readings(tangotest, bare):
    """State reads as its name with the state as its alarm (FAULT is MAJOR), Status as text."""
    state = ctlshell.get(tangotest.address("State"))
    assert state.value == bare.state().name and state.severity is Severity.NO_ALARM
    assert ctlshell.get(tangotest.address("Status")).value == bare.status()
    dev = connect_device(tangotest.address())
    try:
        assert dev.State.value == state.value and dev.Status.value == bare.status()
        bare.command_inout("SwitchStates")  # TangoTest cycles its state
        wait_for(lambda: ctlshell.get(tangotest.address("State")).value != state.value, 5, "the new state")
    finally:
        disconnect_device(dev)
        while bare.state() != tango.DevState.RUNNING:
            bare.command_inout("SwitchStates")


def test_readme_tangotest_example_runs(tangotest):
    """The docs'  TangoTest example, as written (its own database and TangoTest)."""
    from ..readme import run_example

    out = run_example("docs/guide/tango.md", "## TangoTest")
    assert out[0].startswith("INVALID API_AttrValueNotSet: ")
    assert out[1] == "3.0 ('a',)"
    assert out[2] == "['sys/tg_test/1']"
    assert out[3] == "{'beamline': 'BL-T', 'gains': ('1', '2', '4')}"
    assert out[4].startswith("TangoTest device of server TangoTest/test; device properties: beamline='BL-T'")
