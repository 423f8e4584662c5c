"""DB sources on real SQLite files (formats, read-only, errors), timestamps and
severities kept per point, and the superblock repair after a crash."""

from __future__ import annotations

import sqlite3

import h5py
import numpy as np
import pytest

from ctlshell.core import NotFoundError, ValidationError
from ctlshell.nexus import FileWriter, Sample, parse_config, recover
from ctlshell.nexus._db_source import DbReader, db_url
from ctlshell.nexus._repair import lookup3


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "beam.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE beam (id INTEGER PRIMARY KEY, current REAL, mode TEXT)")
        conn.executemany("INSERT INTO beam (current, mode) VALUES (?, ?)", [(200.0, "a"), (199.5, "b")])
    return str(path)


def source(db: str, query: str, fmt: str = "SCALAR"):
    xml = (f'<definition><group type="NXentry"><field name="x" type="NX_FLOAT64"><strategy mode="STEP"/>'
           f'<datasource type="DB"><database dbtype="SQLITE" dbname="{db}"/><query format="{fmt}">{query}</query>'
           '</datasource></field></group></definition>')
    return parse_config(xml).fields[0].source


def test_db_formats(db):
    r = DbReader()
    try:
        assert r.read(source(db, "SELECT current FROM beam ORDER BY id DESC")).value == 199.5
        assert r.read(source(db, "SELECT current FROM beam ORDER BY id", "SPECTRUM")).value == [200.0, 199.5]
        assert r.read(source(db, "SELECT id, current FROM beam", "IMAGE")).value == [[1, 200.0], [2, 199.5]]
        with pytest.raises(NotFoundError, match="no rows"):
            r.read(source(db, "SELECT current FROM beam WHERE id > 99"))
    finally:
        r.close()


def test_a_configuration_cannot_change_the_database(db):
    r = DbReader()
    try:
        with pytest.raises(Exception, match="readonly"):
            r.read(source(db, "UPDATE beam SET current = 0"))
    finally:
        r.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT min(current) FROM beam").fetchone()[0] == 199.5


def test_db_urls():
    assert db_url({"dbtype": "PGSQL", "hostname": "127.0.0.1", "port": "5432", "user": "u", "dbname": "d"}) == \
        "postgresql+psycopg2://u@127.0.0.1:5432/d"
    assert db_url({"url": "sqlite:///x.db"}) == "sqlite:///x.db"
    with pytest.raises(ValidationError, match="dbtype 'DB2'"):
        db_url({"dbtype": "DB2"})


class Counter:
    """A real reader of its own kind: counts up, stamps and marks every third point MAJOR."""

    def __init__(self) -> None:
        self.n = 0

    def read(self, source):
        self.n += 1
        return Sample(float(self.n), 1_700_000_000.0 + self.n, 2 if self.n % 3 == 0 else 0)

    def close(self) -> None:
        pass


def test_timestamps_and_severities_are_kept_per_point(tmp_path, db):
    xml = f"""<definition><group type="NXentry" name="entry">
      <field name="pos" type="NX_FLOAT64" units="mm"><strategy mode="STEP"/>
        <datasource type="CHANNEL"><record name="ca://X"/></datasource></field>
      <field name="current" type="NX_FLOAT64" units="mA"><strategy mode="STEP"/>
        <datasource type="DB"><database dbtype="SQLITE" dbname="{db}"/>
        <query format="SCALAR">SELECT current FROM beam ORDER BY id</query></datasource></field>
      <field name="start" type="NX_FLOAT64" units="mm"><strategy mode="INIT"/>
        <datasource type="CHANNEL"><record name="ca://X"/></datasource></field>
    </group></definition>"""
    w = FileWriter({"CHANNEL": Counter(), "DB": DbReader()}, data_dir=str(tmp_path))
    w.file_name = "t.h5"
    w.open_file()
    w.xml = xml
    w.open_entry()
    for _ in range(3):
        w.record("{}")
    w.close_file()
    with h5py.File(tmp_path / "t.h5", "r") as f:
        stamps = f["nexus_logs/ctlshell/entry"]  # beside the entry, so it has NXSDataWriter's objects only
        assert f["entry/start"][()].tolist() == [1.0] and stamps["start_timestamp"][()].tolist() == [1_700_000_001.0]
        np.testing.assert_array_equal(f["entry/pos"][()], [2.0, 3.0, 4.0])
        np.testing.assert_array_equal(stamps["pos_timestamp"][()], 1_700_000_000.0 + np.array([2, 3, 4]))
        assert stamps["pos_severity"][()].tolist() == [0, 2, 0]
        assert "current_severity" not in stamps and stamps["current_timestamp"].shape == (3,)
        assert not [n for n in f["entry"] if n.endswith(("_timestamp", "_severity"))]


def test_a_source_without_a_reader_is_a_clear_error(tmp_path):
    w = FileWriter(data_dir=str(tmp_path))
    w.file_name = "n.h5"
    w.open_file()
    w.xml = ('<definition><group type="NXentry"><field name="t" type="NX_FLOAT64"><strategy mode="INIT"/>'
             '<datasource type="TANGO"><device name="a/b/c"/><record name="t"/></datasource></field></group>'
             '</definition>')
    with pytest.raises(ValidationError, match="no reader for TANGO sources"):
        w.open_entry()
    assert w.state == "OPEN"
    w.close_file()
    with h5py.File(tmp_path / "n.h5", "r") as f:
        # nothing of the entry: only what OpenFile wrote
        assert list(f) == ["nexus_logs"] and list(f["nexus_logs/configuration"]) == ["python_version"]


def test_lookup3_matches_the_published_vectors():
    assert lookup3(b"") == 0xDEADBEEF
    assert lookup3(b"Four score and seven years ago") == 0x17770551
    assert lookup3(b"Four score and seven years ago", 1) == 0xCD628161


def test_recover_refuses_what_is_not_an_hdf5_file(tmp_path):
    (tmp_path / "x.h5").write_bytes(b"not hdf5" * 10)
    with pytest.raises(ValidationError, match="not an HDF5 file"):
        recover(str(tmp_path / "x.h5"))
    assert (tmp_path / "x.h5").read_bytes() == b"not hdf5" * 10
    with h5py.File(tmp_path / "ok.h5", "w", libver="latest") as f:
        f["a"] = 1
    assert recover(str(tmp_path / "ok.h5")) is False  # cleanly closed: nothing to clear, checksum verified
