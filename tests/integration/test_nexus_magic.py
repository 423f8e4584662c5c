"""Acceptance 2: a scan recorded with ``%nxwrite`` in an IPython shell, CLIENT, TANGO,
DB (SQLite and PostgreSQL) and CA sources mixed, read back with h5py: values, units,
timestamps, severities. Also ``%nxwrite monitor`` and one-line errors."""

from __future__ import annotations

import sqlite3
import time

import h5py
import numpy as np
import psycopg2
import pytest
import tango

from .nexus_servers import ThermoServer, postgres_cluster
from .test_magics import run


@pytest.fixture(scope="module")
def pg():
    try:
        gen = postgres_cluster()
        params = next(gen)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    conn = psycopg2.connect(host=params["hostname"], port=int(params["port"]), user=params["user"],
                            dbname=params["dbname"])
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE ring (energy float8, mode text)")
        cur.execute("INSERT INTO ring VALUES (6.0, 'top-up')")
    conn.close()
    yield params
    gen.close()


@pytest.fixture(scope="module")
def thermo():
    server = ThermoServer()
    yield server
    server.stop()


def config_xml(thermo: ThermoServer, sqlite_path: str, pg: dict, motor: str) -> str:
    pgdb = " ".join(f'{k}="{v}"' for k, v in pg.items())
    return f"""<definition><group type="NXentry" name="entry">
  <field name="title" type="NX_CHAR"><strategy mode="INIT"/>
    <datasource type="CLIENT"><record name="title"/></datasource></field>
  <group type="NXinstrument" name="instrument">
    <group type="NXdetector" name="detector">
      <field name="counts" type="NX_FLOAT64" units="counts"><strategy mode="STEP"/>
        <datasource type="CLIENT"><record name="counts"/></datasource></field></group>
    <group type="NXsource" name="source">
      <field name="current" type="NX_FLOAT64" units="mA"><strategy mode="STEP"/>
        <datasource type="DB"><database dbtype="SQLITE" dbname="{sqlite_path}"/>
          <query format="SCALAR">SELECT current FROM beam ORDER BY id DESC LIMIT 1</query></datasource></field>
      <field name="energy" type="NX_FLOAT64" units="GeV"><strategy mode="INIT"/>
        <datasource type="DB"><database {pgdb}/><query format="SCALAR">SELECT energy FROM ring</query>
        </datasource></field>
      <field name="mode" type="NX_CHAR"><strategy mode="STEP"/>
        <datasource type="DB"><database {pgdb}/><query format="SCALAR">SELECT mode FROM ring</query>
        </datasource></field></group>
    <group type="NXpositioner" name="motor">
      <field name="value" type="NX_FLOAT64"><strategy mode="STEP"/>
        <datasource type="CHANNEL"><record name="ca://{motor}"/></datasource></field></group>
  </group>
  <group type="NXsample" name="sample">
    <field name="temperature" type="NX_FLOAT64"><strategy mode="STEP"/>
      <datasource type="TANGO"><device name="{thermo.device}"/><record name="temperature"/></datasource>
    </field></group>
</group></definition>"""


def test_a_mixed_scan_through_nxwrite_reads_back(ip, tmp_path, prefix, pg, thermo, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "beam.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE beam (id INTEGER PRIMARY KEY, current REAL)")
        conn.execute("INSERT INTO beam (current) VALUES (200.0)")
    (tmp_path / "scan.xml").write_text(config_xml(thermo, str(db), pg, f"{prefix}MOTOR"))
    res, out, err = run(ip, f"%pv host {prefix}MOTOR=0.0 --units mm --writable")
    assert res.success, err
    res, out, err = run(ip, "st = %nxwrite open scan.h5 --config scan.xml\n"
                            "%nxwrite entry {\"title\": \"mixed scan\"}")
    assert res.success and not err, err
    assert ip.user_ns["st"].state == "OPEN"
    proxy = tango.DeviceProxy(thermo.device)
    t0 = time.time()
    for i in range(4):
        res, out, err = run(ip, f"%pv put {prefix}MOTOR {0.5 * i} --wait")
        assert res.success, err
        with sqlite3.connect(db) as conn:
            conn.execute("INSERT INTO beam (current) VALUES (?)", (200.0 - i,))
        proxy.set_temperature(299.0 + i)
        ip.user_ns["point"] = {"counts": 100.0 + i}
        res, out, err = run(ip, "%nxwrite record point")
        assert res.success and not err, err
    res, out, err = run(ip, "done = %nxwrite close")
    assert res.success and not err, err
    assert ip.user_ns["done"].state == "ON"
    with h5py.File(tmp_path / "scan.h5", "r") as f:
        assert f["entry"].attrs["NX_class"] == "NXentry" and f["entry/title"][()] == b"mixed scan"
        det, src = f["entry/instrument/detector"], f["entry/instrument/source"]
        np.testing.assert_array_equal(det["counts"][()], [100.0, 101.0, 102.0, 103.0])
        np.testing.assert_array_equal(src["current"][()], [200.0, 199.0, 198.0, 197.0])
        assert src["energy"][()].tolist() == [6.0] and src["energy"].attrs["units"] == "GeV"
        assert [m.decode() for m in src["mode"][()]] == ["top-up"] * 4
        motor = f["entry/instrument/motor/value"]
        np.testing.assert_array_equal(motor[()], [0.0, 0.5, 1.0, 1.5])
        assert motor.attrs["units"] == "mm"  # not in the XML: from the hosted PV's metadata
        stamps = f["nexus_logs/ctlshell/entry/instrument/motor/value_timestamp"][()]
        assert np.all(np.diff(stamps) > 0) and t0 - 1 < stamps[0] and stamps[-1] < time.time() + 1
        temp = f["entry/sample/temperature"]
        np.testing.assert_array_equal(temp[()], [299.0, 300.0, 301.0, 302.0])
        assert temp.attrs["units"] == "K"  # not in the XML: from the Tango attribute's configuration
        # Tango quality WARNING above 300 K -> MINOR (1), kept per point
        assert f["nexus_logs/ctlshell/entry/sample/temperature_severity"][()].tolist() == [0, 0, 1, 1]
        assert np.all(np.abs(f["nexus_logs/ctlshell/entry/sample/temperature_timestamp"][()] - t0) < 60)
        assert f["nexus_logs/ctlshell/entry/instrument/source/current_timestamp"].attrs["units"] == "s"


def test_monitor_records_a_step_per_update_and_errors_are_one_line(ip, tmp_path, prefix, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mon.xml").write_text(
        '<definition><group type="NXentry" name="entry"><field name="det" type="NX_FLOAT64" units="counts">'
        f'<strategy mode="STEP"/><datasource type="CLIENT"><record name="ca://{prefix}DET"/></datasource></field>'
        f'<field name="det_time" type="NX_FLOAT64" units="s"><strategy mode="STEP"/><datasource type="CLIENT">'
        f'<record name="ca://{prefix}DET/timestamp"/></datasource></field></group></definition>')
    run(ip, f"%pv host {prefix}DET=1.0 --units counts --writable")
    res, out, err = run(ip, "%nxwrite open mon.h5 --config mon.xml\n%nxwrite entry\n"
                            f"m = %nxwrite monitor ca://{prefix}DET --rate 50 --background")
    assert res.success and not err, err
    mon = ip.user_ns["m"]
    deadline = time.monotonic() + 10
    while mon.records < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    for v in (2.0, 3.0, 4.0):
        time.sleep(0.1)  # slower than the rate cap: every update is a step
        assert run(ip, f"%pv put {prefix}DET {v}")[0].success
    deadline = time.monotonic() + 10
    while mon.records < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    res, out, err = run(ip, "%nxwrite stop\n%nxwrite close")
    assert res.success, err
    assert mon.errors == [] and not mon.running
    with h5py.File(tmp_path / "mon.h5", "r") as f:
        assert f["entry/det"][()].tolist() == [1.0, 2.0, 3.0, 4.0]
        assert np.all(np.diff(f["entry/det_time"][()]) > 0)
    # bad input: one line, nothing changed
    res, out, err = run(ip, "%nxwrite record {\"det\": 1}")
    assert not res.success and err.strip().startswith("WriterStateError:") and len(err.strip().splitlines()) == 1
    (tmp_path / "broken.xml").write_text("<definition>\n<group type='NXentry'>\n</definition>")
    res, out, err = run(ip, "%nxwrite open broken.h5 --config broken.xml")
    assert "ValidationError: XML configuration, line 3, column 3: mismatched tag" in err and not (tmp_path / "broken.h5").exists()
    res, out, err = run(ip, "%nxwrite open ../../outside.h5 --config mon.xml")
    assert "outside the writer's data directory" in err
    res, out, err = run(ip, "%nxwrite frobnicate")
    assert "unknown verb 'frobnicate'" in err


def test_usage_of_every_verb_is_shown_without_a_writer(ip):
    _, out, err = run(ip, "%nxwrite open --help")
    assert "--config XML" in out and "--device ADDR" in out and not err
    _, out, err = run(ip, "%nxwrite record ?")
    assert out.strip().startswith("%nxwrite record [JSON]") and not err
    _, out, _ = run(ip, "%nxwrite")
    assert all(f"%nxwrite {v}" in out for v in ("open", "entry", "record", "close", "status", "monitor", "stop"))


def test_monitor_caps_the_rate_and_records_the_newest_values(ip, tmp_path, prefix, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cap.xml").write_text(
        '<definition><group type="NXentry" name="entry"><field name="v" type="NX_FLOAT64"><strategy mode="STEP"/>'
        f'<datasource type="CLIENT"><record name="ca://{prefix}FAST"/></datasource></field></group></definition>')
    res, _, err = run(ip, f"h = %pv host {prefix}FAST=0.0 --writable\n%nxwrite open cap.h5 --config cap.xml\n"
                          f"%nxwrite entry\nm = %nxwrite monitor ca://{prefix}FAST --rate 5 --background")
    assert res.success, err
    h, mon = ip.user_ns["h"], ip.user_ns["m"]
    start = time.monotonic()
    for i in range(1, 201):  # a burst far above the cap
        h.value = float(i)
        time.sleep(0.002)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the newest value gets its step after the burst
        time.sleep(0.05)
        with h5py.File(tmp_path / "cap.h5", "r", swmr=True) as f:
            if f["entry/v"].shape[0] and f["entry/v"][-1] == 200.0:
                break
    elapsed = time.monotonic() - start
    run(ip, "%nxwrite stop\n%nxwrite close")
    with h5py.File(tmp_path / "cap.h5", "r") as f:
        values = f["entry/v"][()]
    assert values[-1] == 200.0 and np.all(np.diff(values) > 0)
    assert len(values) <= 2 + 5 * elapsed, (len(values), elapsed)  # the cap: at most 5 steps per second
    assert mon.coalesced > 0 and mon.records == len(values)
