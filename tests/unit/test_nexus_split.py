"""StepsPerFile (NXSDataWriter's file splitting): records go to NAME_00001.h5, NAME_00002.h5,
... each a copy of the file as OpenEntry left it, FINAL values in every one, no template
or empty last file left behind."""

from __future__ import annotations

import json

import h5py

from ctlshell.nexus._writer import FileWriter

XML = """<definition><group type="NXentry" name="entry">
  <field name="n" type="NX_INT64"><strategy mode="STEP"/>
    <datasource type="CLIENT" name="n"><record name="n"/></datasource></field>
  <field name="end" type="NX_CHAR"><strategy mode="FINAL"/>
    <datasource type="CLIENT" name="end"><record name="end"/></datasource></field>
</group></definition>"""


def test_steps_per_file_splits_the_records(tmp_path):
    w = FileWriter(data_dir=str(tmp_path))
    w.steps_per_file = 2
    w.file_name = "scan.h5"
    w.open_file()
    w.xml = XML
    w.open_entry()
    assert w.current_file_id == 1
    for i in range(4):
        w.record(json.dumps({"data": {"n": i}}))
    assert w.current_file_id == 3  # the next file is ready after every second record
    w.json_record = json.dumps({"data": {"end": "done"}})
    w.close_entry()
    w.close_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan_00001.h5", "scan_00002.h5"]
    for k, points in ((1, [0, 1]), (2, [2, 3])):
        with h5py.File(tmp_path / f"scan_{k:05d}.h5", "r") as f:
            assert f["entry/n"][()].tolist() == points
            assert f["entry/end"][()] == b"done"
