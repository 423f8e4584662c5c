"""Issue 15, acceptance 3 and 4 for the writer core: CanFail gives NXSDataWriter's fill
value *and* marks that no reader can miss (INVALID severity, NXSDataWriter's FAILED
attributes, the failure in /nexus_logs and in Errors); without CanFail the record is
refused and nothing of it is written. A decoder or datasource class path that is not
NXSDataWriter's built-in one is refused before anything could import it."""

from __future__ import annotations

import json
import sys

import h5py
import numpy as np
import pytest

from ctlshell.core import NotFoundError, ValidationError
from ctlshell.nexus._writer import FileWriter

XML = """<definition><group type="NXentry" name="entry">
  <field name="counts" type="NX_FLOAT64" units="counts">
    <strategy mode="STEP" {canfail}/>
    <datasource type="CLIENT" name="counts"><record name="counts"/></datasource>
  </field>
  <field name="n" type="NX_INT32"><strategy mode="STEP"/>
    <datasource type="CLIENT" name="n"><record name="n"/></datasource></field>
</group></definition>"""


def _writer(tmp_path, canfail: str) -> FileWriter:
    w = FileWriter(data_dir=str(tmp_path))
    w.file_name = "scan.h5"
    w.open_file()
    w.xml = XML.format(canfail=canfail)
    w.open_entry()
    return w


def test_canfail_fills_marks_invalid_and_logs(tmp_path):
    w = _writer(tmp_path, 'canfail="true"')
    w.record(json.dumps({"data": {"counts": 1.5, "n": 1}}))
    w.record(json.dumps({"data": {"n": 2}}))  # counts missing: filled, marked
    w.record(json.dumps({"data": {"counts": 3.5, "n": 3}}))
    assert any("record 2: /entry/counts" in e and "'counts' is missing" in e for e in w.failures)
    w.close_file()
    with h5py.File(tmp_path / "scan.h5", "r") as f:
        counts = f["entry/counts"]
        np.testing.assert_array_equal(counts[()], [1.5, np.finfo("f8").max, 3.5])  # NXSDataWriter's value
        assert counts.attrs["nexdatas_canfail"] == "FAILED"
        assert counts.attrs["nexdatas_canfail_error"] == (  # NXSDataWriter's text, which its readers compare
            "('Data for /entry:NXentry/counts not found. DATASOURCE: CLIENT record counts', 'Data without value')")
        assert f["nexus_logs/ctlshell/entry/counts_severity"][()].tolist() == [0, 3, 0]  # INVALID point
        log = f["nexus_logs/ctlshell/canfail_configuration_entry_1"][()].decode()
        assert "record 2: /entry/counts" in log
        assert f["entry/n"][()].tolist() == [1, 2, 3]
        assert "nexdatas_canfail" not in f["entry/n"].attrs


def test_without_canfail_the_record_is_refused_and_nothing_written(tmp_path):
    w = _writer(tmp_path, "")
    w.record(json.dumps({"data": {"counts": 1.5, "n": 1}}))
    with pytest.raises(NotFoundError, match="'counts' is missing"):
        w.record(json.dumps({"data": {"n": 2}}))
    assert w.state == "EXTRACT" and w.failures == []
    w.record(json.dumps({"data": {"counts": 3.5, "n": 3}}))
    w.close_file()
    with h5py.File(tmp_path / "scan.h5", "r") as f:
        assert f["entry/counts"][()].tolist() == [1.5, 3.5] and f["entry/n"][()].tolist() == [1, 3]
        assert "nexdatas_canfail" not in f["entry/counts"].attrs
        assert "nexus_logs/ctlshell/canfail_configuration_entry_1" not in f


def test_global_canfail_applies_to_every_field(tmp_path):
    w = FileWriter(data_dir=str(tmp_path))
    w.can_fail = True
    w.file_name = "scan.h5"
    w.open_file()
    w.xml = XML.format(canfail="")
    w.open_entry()
    w.record(json.dumps({"data": {"counts": 1.0}}))  # n missing
    w.close_file()
    with h5py.File(tmp_path / "scan.h5", "r") as f:
        assert f["entry/n"][()].tolist() == [np.iinfo("i4").max]
        assert f["nexus_logs/ctlshell/entry/n_severity"][()].tolist() == [3]


@pytest.mark.parametrize("key", ["decoders", "datasources"])
def test_a_class_path_that_is_not_built_in_is_never_imported(tmp_path, monkeypatch, key):
    marker = tmp_path / "imported"
    (tmp_path / "ctlshell_evil_plugin.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Evil: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    w = FileWriter(data_dir=str(tmp_path))
    with pytest.raises(ValidationError, match="never imports code named in a record"):
        w.json_record = json.dumps({key: {"EVIL": "ctlshell_evil_plugin.Evil"}})
    with pytest.raises(ValidationError, match="never imports"):  # in a Record's JSON as well
        w.file_name = "x.h5"
        w.open_file()
        w.xml = XML.format(canfail="")
        w.open_entry()
        w.record(json.dumps({"data": {"counts": 1.0, "n": 1}, key: {"E": "ctlshell_evil_plugin.Evil"}}))
    w.close_file()
    assert not marker.exists() and "ctlshell_evil_plugin" not in sys.modules
    assert w.json_record == "{}"  # the refused record changed nothing


def test_builtin_decoder_and_datasource_names_are_accepted_without_import(tmp_path):
    before = {m for m in sys.modules if m.startswith("nxswriter")}
    w = FileWriter(data_dir=str(tmp_path))
    w.json_record = json.dumps({"decoders": {"MUINT32": "nxswriter.DecoderPool.UINT32decoder"},
                                "datasources": {"MCLIENT": "nxswriter.ClientSource.ClientSource"}})
    w.file_name = "m.h5"
    w.open_file()
    w.xml = XML.format(canfail="").replace('type="CLIENT" name="counts"', 'type="MCLIENT" name="counts"')
    w.open_entry()
    w.record(json.dumps({"data": {"counts": 2.0, "n": 1}}))
    w.close_file()
    assert {m for m in sys.modules if m.startswith("nxswriter")} == before
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert f["entry/counts"][()].tolist() == [2.0]


def test_skip_acquisition_skips_one_record_or_the_final_values_then_resets(tmp_path):
    """NXSDataWriter's SkipAcquisition: the next Record (or CloseEntry's FINAL values) is
    not acquired, the flag goes back to False, and the following record goes in."""
    w = FileWriter(data_dir=str(tmp_path))
    w.file_name = "skip.h5"
    w.open_file()
    w.xml = XML.format(canfail="").replace(
        "</group></definition>", '<field name="end" type="NX_INT32"><strategy mode="FINAL"/>'
        '<datasource type="CLIENT" name="end"><record name="end"/></datasource></field></group></definition>')
    w.open_entry()
    w.record(json.dumps({"data": {"counts": 1.5, "n": 1}}))
    w.skip_acquisition = True
    with pytest.raises(ValidationError):  # a bad record is still refused, the flag stays
        w.record("{not json")
    assert w.skip_acquisition
    w.record(json.dumps({"data": {"counts": 2.5, "n": 2}}))  # skipped
    assert not w.skip_acquisition
    w.record(json.dumps({"data": {"counts": 3.5, "n": 3}}))
    w.skip_acquisition = True
    w.close_entry()  # FINAL "end" not read: its missing value is no error
    assert not w.skip_acquisition
    w.close_file()
    with h5py.File(tmp_path / "skip.h5", "r") as f:
        assert f["entry/counts"][()].tolist() == [1.5, 3.5]
        assert f["entry/n"][()].tolist() == [1, 3]
        assert "end" not in f["entry"]



def test_skip_acquisition_reattaches_to_an_entry_already_in_the_file(tmp_path):
    """nxswriter's test_scanRecord_skipacq, second half: OpenEntry of an entry the file
    holds is refused (nothing changes), and with SkipAcquisition set it reattaches to it:
    nothing of it is rewritten, the next records are appended to its datasets."""
    xml = XML.format(canfail="").replace("</group></definition>", (
        '<field name="mca" type="NX_INT32"><dimensions rank="1"/><strategy mode="STEP"/>'
        '<datasource type="CLIENT" name="mca"><record name="mca"/></datasource></field>'
        '<field name="title" type="NX_CHAR"><strategy mode="INIT"/>'
        '<datasource type="CLIENT" name="title"><record name="title"/></datasource></field>'
        '</group></definition>'))
    for first in (True, False):
        w = FileWriter(data_dir=str(tmp_path))
        w.file_name = "again.h5"
        w.open_file()
        w.xml = xml
        if first:
            w.json_record = json.dumps({"data": {"title": "first"}})
            w.open_entry()
        else:
            with pytest.raises(ValidationError, match="already in.*SkipAcquisition"):
                w.open_entry()
            assert w.state == "OPEN"
            w.skip_acquisition = True
            w.open_entry()  # no title in the JSON record: INIT is not read again
            assert not w.skip_acquisition and w.state == "EXTRACT"
        w.record(json.dumps({"data": {"counts": 1.5 if first else 2.5, "n": 1 if first else 2,
                                      "mca": [1, 2, 3] if first else [4, 5, 6]}}))
        w.close_entry()
        w.close_file()
    with h5py.File(tmp_path / "again.h5", "r") as f:
        assert f["entry/counts"][()].tolist() == [1.5, 2.5]
        assert f["entry/n"][()].tolist() == [1, 2]
        assert f["entry/mca"][()].tolist() == [[1, 2, 3], [4, 5, 6]]
        assert f["entry/title"][()] == b"first"
        assert "nexus__entry__1_xml" in f["nexus_logs/configuration"]  # each OpenFile logs its configuration
        assert "nexus__entry__1_xml" in f["nexus_logs/configuration_2"]


def test_reattaching_to_an_entry_whose_step_field_cannot_grow_is_refused(tmp_path):
    w = FileWriter(data_dir=str(tmp_path))
    w.file_name = "fixed.h5"
    w.open_file()
    w.xml = XML.format(canfail="").replace('<strategy mode="STEP" />', '<strategy mode="INIT"/>')  # counts: INIT
    w.json_record = json.dumps({"data": {"counts": 1.0}})
    w.open_entry()
    w.record(json.dumps({"data": {"n": 1}}))
    w.close_entry()
    w.xml = XML.format(canfail="")  # counts is STEP now, but a fixed dataset in the file
    w.skip_acquisition = True
    with pytest.raises(ValidationError, match="cannot append to /entry/counts"):
        w.open_entry()
    assert w.state == "OPEN"
    w.close_file()
    with h5py.File(tmp_path / "fixed.h5", "r") as f:
        assert f["entry/counts"][()] == 1.0 and f["entry/n"][()].tolist() == [1]


def test_canfail_set_by_the_client_is_kept_across_entries(tmp_path):
    """A client's CanFail holds for the following entries too (nxswriter's
    test_scanRecord_canfail reads it True after CloseEntry and CloseFile)."""
    w = FileWriter(data_dir=str(tmp_path))
    w.file_name = "two.h5"
    w.open_file()
    w.can_fail = True
    w.xml = XML.format(canfail="")
    w.open_entry()
    w.record(json.dumps({"data": {"n": 1}}))  # counts missing: filled under CanFail
    w.close_entry()
    assert w.can_fail is True
    w.xml = XML.format(canfail="").replace('name="entry"', 'name="entry2"')
    w.open_entry()
    w.record(json.dumps({"data": {"n": 2}}))
    w.close_file()
    assert w.can_fail is True
    with h5py.File(tmp_path / "two.h5", "r") as f:
        assert f["entry2/counts"].attrs["nexdatas_canfail"] == "FAILED"
