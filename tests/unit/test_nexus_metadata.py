"""MetadataOutput=file (issue 15, nxswriter's ``test_scanRecord_twoentries``): at
CloseEntry each NXentry gets ``NAME.h5.ENTRY.json``, the same JSON NXSDataWriter writes
for the same scan; an unknown output is refused with one sentence and changes nothing."""

from __future__ import annotations

import json
import warnings

import pytest

from ctlshell.core import ValidationError
from ctlshell.nexus import FileWriter

XML = """<definition><group type="NXentry" name="{entry}">
  <group type="NXinstrument" name="instrument"><attribute name="short_name"> scan instrument </attribute>
    <group type="NXdetector" name="detector">
      <field units="m" type="NX_FLOAT" name="counter1"><strategy mode="STEP"/>
        <datasource type="CLIENT"><record name="exp_c01"/></datasource></field>
      <field units="" type="NX_FLOAT" name="mca"><dimensions rank="1"><dim value="8" index="1"/></dimensions>
        <strategy mode="STEP"/><datasource type="CLIENT"><record name="mca_c02"/></datasource></field>
      <field type="NX_CHAR" name="title"><strategy mode="INIT"/>
        <datasource type="CLIENT"><record name="title"/></datasource></field>
    </group></group>
  <group type="NXdata" name="data"><link target="/NXentry/NXinstrument/NXdetector/mca" name="data"/></group>
</group></definition>"""
RECORDS = [{"data": {"exp_c01": 0.1 * i, "mca_c02": [float(i + k) for k in range(8)]}} for i in range(3)]


def _ctlshell(tmp_path, entries):
    w = FileWriter(data_dir=str(tmp_path))
    w.metadata_output = "file"
    w.file_name = "mine.h5"
    w.open_file()
    for entry in entries:
        w.xml = XML.format(entry=entry)
        w.json_record = json.dumps({"data": {"title": "a scan"}})
        w.open_entry()
        for rec in RECORDS:
            w.record(json.dumps(rec))
        w.close_entry()
    w.close_file()
    assert w.last_error == ""


def _nxsdatawriter(tmp_path, entries):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from nxswriter.TangoDataWriter import TangoDataWriter
    t = TangoDataWriter()
    t.writer, t.numberOfThreads, t.canfail, t.metadataOutput = "h5py", 1, False, "file"
    t.fileName = str(tmp_path / "ref.h5")
    t.openFile()
    for entry in entries:
        t.xmlsettings = XML.format(entry=entry)
        t.jsonrecord = json.dumps({"data": {"title": "a scan"}})
        t.openEntry()
        for rec in RECORDS:
            t.record(json.dumps(rec))
        t.closeEntry()
    t.closeFile()


def _load(path):
    doc = json.loads(path.read_text())
    doc.pop("creationTime")  # the moment of writing
    return doc


def test_each_entry_gets_nxsdatawriters_metadata_file(tmp_path):
    entries = ["entry001", "entry002"]
    _ctlshell(tmp_path, entries)
    _nxsdatawriter(tmp_path, entries)
    for entry in entries:
        mine, ref = _load(tmp_path / f"mine.h5.{entry}.json"), _load(tmp_path / f"ref.h5.{entry}.json")
        assert mine == ref
        assert mine["scientificMetadata"]["name"] == entry
        assert mine["scientificMetadata"]["instrument"]["detector"]["mca"]["shape"] == [3, 8]


def test_without_metadata_output_no_json_is_written(tmp_path):
    w = FileWriter(data_dir=str(tmp_path))
    w.file_name = "plain.h5"
    w.open_file()
    w.xml = XML.format(entry="entry001")
    w.json_record = json.dumps({"data": {"title": "a scan"}})
    w.open_entry()
    w.close_entry()
    w.close_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.h5"]


def test_an_unknown_metadata_output_is_refused_and_changes_nothing(tmp_path):
    w = FileWriter(data_dir=str(tmp_path))
    w.metadata_output = "file"
    with pytest.raises(ValidationError, match="MetadataOutput scicat is not known"):
        w.metadata_output = "scicat"
    assert w.metadata_output == "file"
