"""Acceptance 4 for the writer core: bad input gets a clear error and changes nothing;
never a silent fill value; nothing in a configuration runs code."""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest

from ctlshell.core import CtlshellError, NotFoundError, ValidationError
from ctlshell.nexus import FileWriter, WriterStateError, XMLConfigError, parse_config

XML = """<?xml version="1.0"?>
<definition>
  <group type="NXentry" name="entry">
    <field name="counts" type="NX_FLOAT64" units="counts">
      <strategy mode="STEP"/>
      <datasource type="CLIENT" name="counts"><record name="counts"/></datasource>
    </field>
    <field name="n" type="NX_INT32">
      <strategy mode="STEP"/>
      <datasource type="CLIENT" name="n"><record name="n"/></datasource>
    </field>
    <field name="mca" type="NX_FLOAT64">
      <dimensions rank="1"><dim index="1" value="3"/></dimensions>
      <strategy mode="STEP"/>
      <datasource type="CLIENT" name="mca"><record name="mca"/></datasource>
    </field>
  </group>
</definition>
"""


@pytest.fixture
def writer(tmp_path):
    w = FileWriter(data_dir=str(tmp_path))
    w.file_name = "scan.h5"
    w.open_file()
    w.xml = XML
    w.open_entry()
    yield w
    if w.state != "ON":
        w.close_file()


def good(i: int) -> str:
    return json.dumps({"data": {"counts": 1.5 * i, "n": i, "mca": [i, i, i]}})


def test_malformed_xml_names_line_and_column_and_creates_no_file(tmp_path):
    bad = XML.replace("</field>\n    <field name=\"n\"", "</fieldx>\n    <field name=\"n\"", 1)
    w = FileWriter(data_dir=str(tmp_path))
    with pytest.raises(XMLConfigError, match=r"line 7, column \d+: mismatched tag") as err:
        w.xml = bad
    assert err.value.line == 7
    assert w.xml == "" and os.listdir(tmp_path) == []


@pytest.mark.parametrize("xml, message", [
    ("<definition><group type='NXentry' name='e'><field name='x' type='NX_FLOAT64'>"
     "<strategy mode='STEP'/><datasource type='PYEVAL' name='x'><result name='x'>ds.x = __import__('os')"
     "</result></datasource></field></group></definition>", r"line 1, column \d+: <result>: PYEVAL code is not run"),
    ("<definition><group type='NXentry'><field name='x' type='NX_FLOAT99'/></group></definition>",
     "unknown type 'NX_FLOAT99'"),
    ("<definition><group type='NXentry'><field name='x'><strategy mode='SOMETIMES'/></field></group></definition>",
     "strategy mode must be"),
    ("<!DOCTYPE d [<!ENTITY a 'aaaa'>]><definition/>", "document type declarations"),
    ("<nexus/>", "root element must be <definition>"),
])
def test_bad_configurations_are_refused_with_their_place(xml, message):
    with pytest.raises(XMLConfigError, match=message):
        parse_config(xml)


def test_missing_client_value_is_an_error_not_a_fill_value(writer, tmp_path):
    writer.record(good(0))
    with pytest.raises(NotFoundError, match=r"/entry/n: CLIENT value 'n' is missing"):
        writer.record(json.dumps({"data": {"counts": 2.0, "mca": [1, 2, 3]}}))
    assert writer.state == "EXTRACT"
    writer.record(good(1))
    with h5py.File(tmp_path / "scan.h5", "r", swmr=True) as f:
        np.testing.assert_array_equal(f["entry/counts"][()], [0.0, 1.5])  # nothing of the bad record
        np.testing.assert_array_equal(f["entry/n"][()], [0, 1])
        assert f["entry/mca"].shape == (2, 3)


@pytest.mark.parametrize("data, message", [
    ({"counts": "high", "n": 1, "mca": [1, 2, 3]}, "expected a number, got str"),
    ({"counts": 1.0, "n": 2.5, "mca": [1, 2, 3]}, "expected an integer, got 2.5"),
    ({"counts": 1.0, "n": 2**40, "mca": [1, 2, 3]}, "out of range"),
    ({"counts": 1.0, "n": 1, "mca": [1, 2]}, r"expected shape \(3,\), got \(2,\)"),
    ({"counts": None, "n": 1, "mca": [1, 2, 3]}, "no value"),
    ({"counts": [[1.0]], "n": 1, "mca": [1, 2, 3]}, "expected one value"),  # [1.0]: one point, as NXSDataWriter
    ({"counts": 1.0, "n": 1, "mca": [1, float("nan"), 3]}, None),  # NaN is a float64 value: accepted
    ({"counts": True, "n": 1, "mca": [1, 2, 3]}, "expected a number, got bool"),
    ({"counts": 1.0, "n": 1, "mca": [1, "x", 3]}, "expected f8 values, got <U"),
])
def test_mistyped_values_are_refused_and_the_next_record_is_written(writer, tmp_path, data, message):
    if message is None:
        writer.record(json.dumps({"data": data}))
    else:
        with pytest.raises(ValidationError, match=message):
            writer.record(json.dumps({"data": data}))
    writer.record(good(4))
    assert writer.records == (2 if message is None else 1)
    with h5py.File(tmp_path / "scan.h5", "r", swmr=True) as f:
        assert f["entry/counts"][()][-1] == 6.0 and f["entry/counts"].shape == (writer.records,)


@pytest.mark.parametrize("text, message", [("{\"data\": {", r"not JSON: .* \(line 1, column"),
                                           ("[1, 2]", "expected a JSON object"),
                                           ("{\"data\": [1]}", "must be an object"),
                                           ("{\"dta\": {}}", "unknown keys")])
def test_malformed_json_is_refused(writer, text, message):
    with pytest.raises(ValidationError, match=message):
        writer.record(text)
    assert writer.state == "EXTRACT" and writer.records == 0


@pytest.mark.parametrize("name", ["../escape.h5", "/etc/passwd", "sub/../../x.h5", ""])
def test_paths_outside_the_data_directory_are_refused(tmp_path, name):
    w = FileWriter(data_dir=str(tmp_path / "data"))
    with pytest.raises(ValidationError):
        w.file_name = name
    assert w.file_name == "" and w.state == "ON"


def test_symlink_out_of_the_data_directory_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    os.symlink(tmp_path, tmp_path / "data" / "up")
    w = FileWriter(data_dir=str(tmp_path / "data"))
    with pytest.raises(ValidationError, match="outside"):
        w.file_name = "up/x.h5"


def test_commands_in_the_wrong_state_change_nothing(tmp_path):
    w = FileWriter(data_dir=str(tmp_path))
    for command in (w.open_entry, w.record, w.close_entry):
        with pytest.raises(WriterStateError, match="the writer is ON"):
            command()
        assert w.state == "ON"
    w.file_name = "a.h5"
    w.open_file()
    with pytest.raises(WriterStateError, match="the writer is OPEN"):
        w.record(good(0))
    with pytest.raises(WriterStateError, match="FileName can only change"):
        w.file_name = "b.h5"
    assert (w.state, os.path.basename(w.file_name)) == ("OPEN", "a.h5")
    with pytest.raises(WriterStateError):
        w.open_file()
    w.close_file()
    assert w.state == "ON"


def test_an_existing_file_is_never_overwritten(tmp_path):
    (tmp_path / "notes.h5").write_text("my notes")
    w = FileWriter(data_dir=str(tmp_path))
    w.file_name = "notes.h5"
    with pytest.raises(ValidationError, match="not an HDF5 file"):
        w.open_file()
    assert (tmp_path / "notes.h5").read_text() == "my notes" and w.state == "ON"


def test_a_second_entry_of_the_same_name_is_refused_and_the_first_kept(writer, tmp_path):
    writer.record(good(1))
    writer.close_entry()
    with pytest.raises(ValidationError, match="/entry already in"):
        writer.open_entry()
    assert writer.state == "OPEN"
    writer.xml = XML.replace('name="entry"', 'name="entry2"')
    writer.open_entry()
    writer.record(good(2))
    writer.close_file()
    with h5py.File(tmp_path / "scan.h5", "r") as f:
        assert f["entry/counts"][()].tolist() == [1.5] and f["entry2/counts"][()].tolist() == [3.0]


def test_errors_are_ctlshell_errors():
    assert issubclass(XMLConfigError, CtlshellError) and issubclass(WriterStateError, CtlshellError)


EVAL = ("<definition><group type='NXentry' name='entry'><field name='r' type='NX_FLOAT64'><strategy mode='STEP'/>"
        "<datasource type='PYEVAL' name='r'><datasource type='CLIENT' name='a'><record name='a'/></datasource>"
        "<datasource type='CLIENT' name='b'><record name='b'/></datasource>"
        "<result name='r'>{}</result></datasource></field></group></definition>")


@pytest.mark.parametrize("code", [
    "ds.r = ds.a.__class__", "ds.r = ds.a[0]", "ds.r = open('/etc/passwd')", "ds.r = (lambda: 1)()",
    "ds.r = [x for x in ds.a]", "import os", "ds.r = ds.a; ds.r = 1", "ds.r = max(ds.a, ds.b, key=abs)",
    "ds.r = ds.c + 1", "ds.x = ds.a", "ds.r = 'text'", "ds.r = ds.a if ds.b else 0", "ds.r = ().__class__",
    "ds.r = sqrt(ds.a, ds.b)", "exec('1')", "ds.r = 1e999", "ds.r = " + "(" * 5000 + "1" + ")" * 5000,
    "ds.r = " + "-" * 3000 + "1",
])
def test_computed_fields_outside_the_grammar_are_refused_before_anything_runs(code):
    with pytest.raises(XMLConfigError, match=r"line 1, column \d+: <result>: PYEVAL code is not run"):
        parse_config(EVAL.format(code))


def test_a_computed_value_that_fails_refuses_the_record(tmp_path):
    w = FileWriter(data_dir=str(tmp_path))
    w.file_name = "e.h5"
    w.open_file()
    w.xml = EVAL.format("ds.r = ds.a / ds.b + 10 ** ds.a")
    w.open_entry()
    w.record('{"data": {"a": 1, "b": 4}}')
    with pytest.raises(ValidationError, match="divide by zero"):
        w.record('{"data": {"a": 1, "b": 0}}')
    with pytest.raises(ValidationError, match="overflow"):
        w.record('{"data": {"a": 400, "b": 1}}')
    w.record('{"data": {"a": 2, "b": 8}}')
    w.close_file()
    with h5py.File(tmp_path / "e.h5", "r") as f:
        assert f["entry/r"][()].tolist() == [10.25, 100.25]


@pytest.mark.parametrize("nx_type, value, message", [
    ("NX_FLOAT32", 1e300, "out of range for f4"), ("NX_FLOAT32", [1e300, 1.0], "out of range for f4"),
    ("NX_INT32", [1.5, 2.0], "do not fit i4"), ("NX_UINT8", -1, "out of range"), ("NX_INT8", [float("nan"), 1],
                                                                                   "do not fit i1"),
    ("NX_BOOLEAN", 2, "expected true/false"), ("NX_CHAR", 5, "expected text"),
])
def test_no_silent_casts(nx_type, value, message):
    from ctlshell.nexus._types import convert, dtype_of

    shape = (2,) if isinstance(value, list) else ()
    with pytest.raises(ValidationError, match=message):
        convert(value, dtype_of(nx_type), shape, "f")


def test_text_that_cannot_be_stored_refuses_the_whole_record(tmp_path):
    w = FileWriter(data_dir=str(tmp_path))
    w.file_name = "s.h5"
    w.open_file()
    w.xml = ("<definition><group type='NXentry' name='entry'>"
             "<field name='x' type='NX_FLOAT64'><strategy mode='STEP'/><datasource type='CLIENT'>"
             "<record name='x'/></datasource></field>"
             "<field name='s' type='NX_CHAR'><strategy mode='STEP'/><datasource type='CLIENT'>"
             "<record name='s'/></datasource></field></group></definition>")
    w.open_entry()
    w.record('{"data": {"x": 1.0, "s": "ok"}}')
    with pytest.raises(ValidationError, match="record refused"):
        w.record('{"data": {"x": 2.0, "s": "bad \\ud800 surrogate"}}')
    w.record('{"data": {"x": 3.0, "s": "\\u00e9t\\u00e9"}}')
    w.close_file()
    with h5py.File(tmp_path / "s.h5", "r") as f:
        assert f["entry/x"][()].tolist() == [1.0, 3.0]
        assert [v.decode() for v in f["entry/s"][()]] == ["ok", "été"]
