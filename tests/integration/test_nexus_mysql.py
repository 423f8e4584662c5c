"""NXSDataWriter's MYSQL dbtype: a DB source read from a real MariaDB (Debian's
mariadb-server, started on 127.0.0.1 for the test) into a NeXus file."""

from __future__ import annotations

import json

import h5py
import pytest

from ctlshell.nexus._db_source import DbReader
from ctlshell.nexus._writer import FileWriter

from .nexus_servers import mariadb_server

pymysql = pytest.importorskip("pymysql")


@pytest.fixture(scope="module")
def mysql():
    try:
        gen = mariadb_server()
        params = next(gen)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    conn = pymysql.connect(host=params["hostname"], port=int(params["port"]), user=params["user"])
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE beam")
        cur.execute("CREATE TABLE beam.ring (energy DOUBLE, mode VARCHAR(20))")
        cur.execute("INSERT INTO beam.ring VALUES (6.0, 'top-up'), (6.1, 'decay')")
    conn.commit()
    conn.close()
    yield {**params, "dbname": "beam"}
    gen.close()


def test_mysql_source_values_reach_the_file(mysql, tmp_path, request):
    db = " ".join(f'{k}="{v}"' for k, v in mysql.items())
    xml = f"""<definition><group type="NXentry" name="entry">
      <field name="energy" type="NX_FLOAT64" units="GeV"><strategy mode="STEP"/>
        <datasource type="DB" name="e"><database {db}/>
          <query format="SCALAR">SELECT energy FROM ring WHERE mode = 'top-up'</query></datasource></field>
      <field name="energies" type="NX_FLOAT64"><dimensions rank="1"><dim index="1" value="2"/></dimensions>
        <strategy mode="INIT"/>
        <datasource type="DB" name="es"><database {db}/>
          <query format="SPECTRUM">SELECT energy FROM ring ORDER BY energy</query></datasource></field>
    </group></definition>"""
    reader = DbReader()
    request.addfinalizer(reader.close)  # its pooled connection is closed, not left to the garbage collector
    w = FileWriter({"DB": reader}, data_dir=str(tmp_path))
    w.file_name = "db.h5"
    w.open_file()
    w.xml = xml
    w.open_entry()
    w.record(json.dumps({}))
    w.close_file()
    with h5py.File(tmp_path / "db.h5", "r") as f:
        assert f["entry/energy"][()].tolist() == [6.0]
        assert f["entry/energies"][()].tolist() == [6.0, 6.1]


def test_a_failing_mysql_query_refuses_the_record(mysql, tmp_path, request):
    db = " ".join(f'{k}="{v}"' for k, v in mysql.items())
    xml = f"""<definition><group type="NXentry" name="entry">
      <field name="x" type="NX_FLOAT64"><strategy mode="STEP"/>
        <datasource type="DB" name="x"><database {db}/>
          <query format="SCALAR">SELECT nothing FROM missing_table</query></datasource></field>
    </group></definition>"""
    reader = DbReader()
    request.addfinalizer(reader.close)  # its pooled connection is closed, not left to the garbage collector
    w = FileWriter({"DB": reader}, data_dir=str(tmp_path))
    w.file_name = "bad.h5"
    w.open_file()
    w.xml = xml
    w.open_entry()
    with pytest.raises(Exception, match="missing_table"):
        w.record(json.dumps({}))
    w.close_file()
    with h5py.File(tmp_path / "bad.h5", "r") as f:
        assert f["entry/x"].shape == (0,)
