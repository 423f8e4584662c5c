"""The pure parts of PV Access: address readings, p4p values <-> Reading/Metadata on
both sides (client backend and hosted server), put requests, gateway configuration.
No sockets."""

from __future__ import annotations

import numpy as np
import pytest
from p4p import Type, Value
from p4p.nt import NTEnum, NTScalar

from ctlshell.backends.pva._convert import put_target, to_metadata, to_reading
from ctlshell.backends.pva._resolve import Target, candidates
from ctlshell.core import AddressError, Metadata, NotFoundError, Reading, Severity, ValidationError
from ctlshell.gateway import GatewayConfig
from ctlshell.host._pva_types import full_value, nt_type, put_request, update_value

STRUCT = Type([("x", "d"), ("a", ("S", None, [("b", "i"), ("c", "s"), ("w", "ad")]))], id="demo:S")


def test_dotted_names_have_two_readings_field_first():
    assert candidates("BL:M1") == (Target("BL:M1"),)
    assert candidates("BL:M1.a.b") == (Target("BL:M1", "a.b"), Target("BL:M1.a.b"))
    for bad in ("X..a", "X.", ".a", "X.a."):
        with pytest.raises(AddressError, match="malformed pva://"):
            candidates(bad)


def test_ntscalar_reading_and_metadata():
    v = NTScalar("d", display=True, control=True, valueAlarm=True, form=True).wrap(
        {"value": 3.5, "display.units": "mm", "display.precision": 4, "control.limitLow": -1.0,
         "control.limitHigh": 9.0, "alarm.severity": 7, "alarm.message": "bad"},
        timestamp=1_700_000_000.5)
    r = to_reading("pva://X", v)
    assert (r.value, r.timestamp, r.severity, r.status) == (3.5, 1_700_000_000.5, Severity.INVALID, "bad")
    m = to_metadata(v)
    assert (m.dtype, m.units, m.precision, m.control_limits, m.display_limits) == ("double", "mm", 4, (-1.0, 9.0), None)


def test_enum_array_and_plain_structure():
    e = NTEnum().wrap({"index": 1, "choices": ["a", "b"]})
    assert to_reading("pva://E", e).value == 1 and to_metadata(e).choices == ("a", "b")
    arr = NTScalar("ai").wrap(np.arange(4))
    r = to_reading("pva://A", arr)
    assert r.value.tolist() == [0, 1, 2, 3] and not r.value.flags.writeable
    assert (to_metadata(arr).dtype, to_metadata(arr).count) == ("long", 4)

    s = Value(STRUCT, {"x": 1.5, "a": {"b": 2, "c": "two", "w": [1.0]}})
    whole = to_reading("pva://S", s)
    assert set(whole.value) == {"x", "a.b", "a.c", "a.w"} and whole.value["a.c"] == "two"
    assert whole.severity is Severity.NO_ALARM and whole.age < 5  # no timeStamp: receive time
    assert to_metadata(s).dtype == "struct" and to_metadata(s).access == "r"
    assert to_reading("pva://S.a.b", s, "a.b").value == 2
    assert to_metadata(s, "a.c").dtype == "string"
    with pytest.raises(NotFoundError, match=r"no field 'a\.q' \(fields: x, a\.b, a\.c, a\.w\)"):
        to_reading("pva://S.a.q", s, "a.q")


def test_put_targets_and_what_cannot_be_written():
    s = Value(STRUCT, {"x": 1.5, "a": {"b": 2, "c": "two", "w": [1.0]}})
    assert put_target(s, "a.b", "pva://S.a.b")[0] == "a.b"
    key, meta = put_target(s, "a.w", "pva://S.a.w")
    assert key == "a.w" and meta.count > 1000  # PVA arrays have no fixed length
    with pytest.raises(ValidationError, match="is a structure"):
        put_target(s, "", "pva://S")
    assert put_target(NTEnum().wrap({"index": 0, "choices": ["a"]}), "", "pva://E")[0] == "value.index"


@pytest.mark.parametrize("meta,value", [
    (Metadata(units="mm", precision=3, control_limits=(-10, 10), alarm_limits=(-5, 5),
              warning_limits=(-2, 2), description="gap"), 7.25),
    (Metadata(dtype="long", units="counts"), 42),
    (Metadata(dtype="string", description="note"), "hello"),
    (Metadata(dtype="enum", choices=("Open", "Closed")), 1),
    (Metadata(dtype="double", count=3, units="V"), np.array([1.0, 2.0, 3.0])),
])
def test_hosted_structure_reads_back_as_the_same_metadata(meta, value):
    """What the PVA server serves for a SoftPV, the pva backend reads back unchanged."""
    reading = Reading("local://X", value, 1_700_000_000.125, Severity.MAJOR, "HIHI")
    kind = nt_type(meta)
    served = full_value(kind, reading, meta)
    back = to_reading("pva://X", served)
    assert back.timestamp == pytest.approx(reading.timestamp, abs=1e-6)
    assert (back.severity, back.status) == (Severity.MAJOR, "HIHI")
    assert np.array_equal(back.value, value) if meta.is_array else back.value == value
    got = to_metadata(served)
    expected = meta if meta.display_limits or not meta.control_limits else \
        Metadata(**{**meta.__dict__, "display_limits": meta.control_limits})
    if meta.dtype not in ("enum", "string") and meta.precision is None:
        expected = Metadata(**{**expected.__dict__, "precision": 0})
    assert got == expected


def test_updates_carry_only_value_alarm_and_timestamp():
    meta = Metadata(units="mm", control_limits=(0, 1))
    u = update_value(nt_type(meta), Reading("local://X", 0.5, 10.25), meta)
    assert u.changedSet() >= {"value", "alarm.severity", "timeStamp.secondsPastEpoch"}
    assert not any(f.startswith(("display", "control", "valueAlarm")) for f in u.changedSet())


def test_put_requests_take_the_value_and_nothing_else():
    meta = Metadata(units="mm")
    kind = nt_type(meta)
    assert put_request(Value(kind, {"value": 2.0}), meta, "X") == 2.0
    with pytest.raises(ValidationError, match="only the value can be written over PVA, not display.units"):
        put_request(Value(kind, {"value": 2.0, "display.units": "km"}), meta, "X")
    with pytest.raises(ValidationError, match="carries no value"):
        put_request(Value(kind, {}), meta, "X")
    enum = Metadata(dtype="enum", choices=("a", "b"))
    assert put_request(Value(nt_type(enum), {"value.index": 1}), enum, "E") == 1
    with pytest.raises(ValidationError, match="choices of an enum"):
        put_request(Value(nt_type(enum), {"value.index": 1, "value.choices": ["x"]}), enum, "E")


def test_gateway_config_to_p4p_json_and_refusals():
    cfg = GatewayConfig(upstream=["127.0.0.1:6001"], server_port=6010, broadcast_port=6011, status_prefix="GW1:")
    doc = cfg.to_json()
    assert doc["clients"][0]["addrlist"] == "127.0.0.1:6001" and doc["clients"][0]["autoaddrlist"] is False
    server = doc["servers"][0]
    assert server["interface"] == ["127.0.0.1"] and server["addrlist"] == "127.0.0.1"
    assert (server["serverport"], server["bcastport"], server["statusprefix"]) == (6010, 6011, "GW1:")
    assert doc["readOnly"] is False
    site = GatewayConfig(upstream=["10.0.1.255"], interfaces=["192.168.5.20"], server_port=5075,
                         broadcast_port=5076).to_json()
    assert site["servers"][0]["autoaddrlist"] is True  # not loopback: beacons on that network
    for bad in ({"server_port": 70000}, {"upstream": ["host.example"]}, {"upstream": []},
                {"status_prefix": "G W"}, {"upstream": ["127.0.0.1:6000"], "broadcast_port": 6000}):
        with pytest.raises(ValidationError):
            GatewayConfig(**bad)
    with pytest.raises(ValidationError, match="unknown gateway setting"):
        cfg.replace(colour="red")


def test_pva_server_settings_from_env_and_refusals():
    from ctlshell.core import Config
    from ctlshell.host._pva_server import server_conf

    cfg = Config.from_env({"EPICS_PVA_SERVER_PORT": "7000", "EPICS_PVAS_BROADCAST_PORT": "7001",
                           "CTLSHELL_SERVE_PVA": "no"})
    assert (cfg.pva_server_port, cfg.pva_broadcast_port, cfg.serve_pva) == (7000, 7001, False)
    assert Config.from_env({}).serve_pva is True and Config.from_env({}).pva_server_port == 5075
    conf = server_conf(cfg)
    assert conf["EPICS_PVAS_INTF_ADDR_LIST"] == "127.0.0.1" and conf["EPICS_PVAS_BEACON_ADDR_LIST"] == "127.0.0.1"
    assert conf["EPICS_PVAS_SERVER_PORT"] == "7000" and conf["EPICS_PVAS_BROADCAST_PORT"] == "7001"
    for env in ({"EPICS_PVAS_SERVER_PORT": "x"}, {"CTLSHELL_SERVE_PVA": "maybe"}):
        with pytest.raises(ValidationError):
            Config.from_env(env)
    with pytest.raises(ValidationError, match="pva_server_port must be 1..65535"):
        Config(pva_server_port=0)
    with pytest.raises(ValidationError, match="serve_pva must be True or False"):
        Config(serve_pva="yes")
