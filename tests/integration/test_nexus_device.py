"""The NexusWriter Tango device (``ctlshell nxwriter`` in a subprocess) driven through
pytango: acceptance 3 (a reader in another process during the scan; a killed writer
leaves every completed record) and 4 (bad input through the Tango interface)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import tango

from ctlshell.core import ValidationError, stop_process
from ctlshell.nexus import WriterClient, WriterProcess, WriterStateError
from ctlshell.nexus import recover as clear_write_flags

READER = Path(__file__).with_name("nexus_swmr_reader.py")
XML = """<definition><group type="NXentry" name="entry">
  <field name="title" type="NX_CHAR"><strategy mode="INIT"/>
    <datasource type="CLIENT" name="title"><record name="title"/></datasource></field>
  <group type="NXinstrument" name="instrument"><group type="NXdetector" name="detector">
    <field name="counts" type="NX_FLOAT64" units="counts"><strategy mode="STEP"/>
      <datasource type="CLIENT" name="counts"><record name="counts"/></datasource></field>
    <field name="mca" type="NX_INT32" units="counts">
      <dimensions rank="1"><dim index="1" value="100"/></dimensions><strategy mode="STEP"/>
      <datasource type="CLIENT" name="mca"><record name="mca"/></datasource></field>
  </group></group></group></definition>"""


def step(i: int) -> dict:
    return {"counts": 10.0 + i, "mca": list(range(i, i + 100))}


@pytest.fixture
def writer(tmp_path):
    with WriterProcess(str(tmp_path)) as proc:
        yield proc


def test_attributes_commands_and_states(writer, tmp_path):
    p = tango.DeviceProxy(writer.address)
    attrs = {a.name for a in p.attribute_list_query()}
    assert {"FileName", "XMLSettings", "JSONRecord"} <= attrs
    assert {"OpenFile", "OpenEntry", "Record", "CloseEntry", "CloseFile"} <= set(p.get_command_list())
    seen = [str(p.state())]
    p.XMLSettings = XML
    p.FileName = "scan.h5"
    p.OpenFile()
    seen.append(str(p.state()))
    p.JSONRecord = json.dumps({"data": {"title": "device scan"}})
    p.OpenEntry()
    seen.append(str(p.state()))
    for i in range(3):
        p.Record(json.dumps({"data": step(i)}))
    assert p.status() == "Entry Open" and "3 records" in p.Summary  # NXSDataWriter's text; ours in Summary
    p.CloseEntry()
    seen.append(str(p.state()))
    p.CloseFile()
    seen.append(str(p.state()))
    assert seen == ["ON", "OPEN", "EXTRACT", "OPEN", "ON"]
    # what NXSDataWriter's clients also use
    assert p.CanFail is False and list(p.Errors or []) == []  # no fill value unless asked for
    assert p.StepsPerFile == 0 and p.CurrentFileId == 0 and p.JSONRecord != ""
    p.CanFail = True
    assert p.CanFail is True
    p.CanFail = False
    p.FileName = "asynch.h5"
    p.OpenFile()
    p.OpenEntryAsynch()
    p.RecordAsynch(json.dumps({"data": step(7)}))
    assert str(p.state()) == "EXTRACT"
    p.CloseEntryAsynch()
    p.CloseFile()
    with h5py.File(tmp_path / "asynch.h5", "r") as f:
        assert f["entry/instrument/detector/counts"][()].tolist() == [17.0]
    with h5py.File(tmp_path / "scan.h5", "r") as f:
        assert f["entry/title"][()] == b"device scan"
        np.testing.assert_array_equal(f["entry/instrument/detector/counts"][()], [10.0, 11.0, 12.0])
        assert f["entry/instrument/detector/mca"].dtype == np.int32
        assert f["entry/instrument/detector/mca"][2, 99] == 101


def _peek(path: str, name: str) -> list:
    """What a fresh reader process sees in the file now (SWMR)."""
    code = ("import h5py,sys,json\nwith h5py.File(sys.argv[1],'r',swmr=True) as f: "
            "print(json.dumps(f[sys.argv[2]][()].tolist() if sys.argv[2] in f else None))")
    out = subprocess.run([sys.executable, "-c", code, path, name], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_file_is_readable_between_entries_too(writer, tmp_path):
    c = WriterClient(writer.address)
    c.open("two.h5", XML)
    path = str(tmp_path / "two.h5")
    assert _peek(path, "entry") is None  # open, no entry yet: readable already
    c.entry({"title": "first"})
    c.record(step(0))
    c.command("CloseEntry")
    assert c.status().state == "OPEN"
    assert _peek(path, "entry/instrument/detector/counts") == [10.0]
    c.write("XMLSettings", XML.replace('name="entry"', 'name="entry2"'))
    c.entry({"title": "second"})
    c.record(step(5))
    assert _peek(path, "entry2/instrument/detector/counts") == [15.0]
    c.close()


def test_a_reader_in_another_process_follows_the_scan_and_a_killed_writer_loses_nothing(writer, tmp_path):
    c = WriterClient(writer.address)
    c.open("live.h5", XML)
    c.entry({"title": "live"})
    for i in range(5):
        c.record(step(i))
    path = str(tmp_path / "live.h5")
    reader = subprocess.Popen([sys.executable, str(READER), path, "entry/instrument/detector/counts"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        seen = []
        for more in (0, 7):
            for i in range(5, 5 + more):
                c.record(step(i))
            reader.stdin.write("\n")
            reader.stdin.flush()
            seen.append(json.loads(reader.stdout.readline()[2:]))
        assert seen[0] == {"n": 5, "values": [10.0, 11.0, 12.0, 13.0, 14.0]}
        assert seen[1]["n"] == 12 and seen[1]["values"][-1] == 21.0
    finally:
        reader.stdin.close()
        reader.wait(10)
        reader.stdout.close()
    writer.kill()  # a crash in the middle of the scan: no CloseEntry, no CloseFile
    with h5py.File(path, "r", swmr=True) as f:  # opens as it is, every completed record there
        np.testing.assert_array_equal(f["entry/instrument/detector/counts"][()], 10.0 + np.arange(12))
        assert f["entry/instrument/detector/mca"].shape == (12, 100)
    assert clear_write_flags(path) is True  # then any HDF5 reader opens it
    with h5py.File(path, "r") as f:
        assert f["entry/instrument/detector/mca"][11, 0] == 11


def test_bad_input_through_tango_is_refused_and_changes_nothing(writer, tmp_path):
    c = WriterClient(writer.address)
    with pytest.raises(ValidationError, match=r"line 3, column \d+: mismatched tag"):
        c.open("never.h5", XML.replace("</field>", "</fieldx>", 1))
    assert not (tmp_path / "never.h5").exists() and c.status().state == "ON"
    with pytest.raises(ValidationError, match="outside the writer's data directory"):
        c.open("../../etc/evil.h5", XML)
    assert c.status().state == "ON"
    with pytest.raises(WriterStateError, match="the writer is ON"):
        c.record(step(0))
    c.open("bad.h5", XML)
    c.entry({"title": "bad input"})
    c.record(step(0))
    with pytest.raises(ValidationError, match="CLIENT value 'mca' is missing"):
        c.record({"counts": 1.0})
    with pytest.raises(ValidationError, match=r"expected shape \(100,\), got \(3,\)"):
        c.record({"counts": 1.0, "mca": [1, 2, 3]})
    with pytest.raises(ValidationError, match="expected a number, got str"):
        c.record({"counts": "n/a", "mca": list(range(100))})
    st = c.status()
    assert st.state == "EXTRACT" and "1 records" in st.status and "expected a number" in st.status
    assert "expected a number" in c.proxy.Errors[0]
    with pytest.raises(WriterStateError, match="the writer is EXTRACT"):
        c.command("OpenEntry")
    xml_before = c.proxy.XMLSettings
    with pytest.raises(WriterStateError, match="is EXTRACT with '.*bad.h5' open; close it first"):
        c.open("other.h5", XML.replace("counts", "other"))
    assert c.proxy.XMLSettings == xml_before and not (tmp_path / "other.h5").exists()
    c.record(step(1))
    c.close()
    with h5py.File(tmp_path / "bad.h5", "r") as f:
        np.testing.assert_array_equal(f["entry/instrument/detector/counts"][()], [10.0, 11.0])
        assert not np.any(f["entry/instrument/detector/counts"][()] > 1e300)  # no fill value anywhere


def test_the_same_client_drives_nxsdatawriter_and_both_files_match(writer, tmp_path):
    """``%nxwrite --device`` talks only Tango: NXSDataWriter works with it, and the two
    devices write the same file for the same configuration and records."""
    from ..unit.nexus_ref import assert_same, facts
    from ..unit.test_nexus_compat import attrs_links
    from .nexus_servers import NXSDataWriterServer

    xml, _, recs, _ = attrs_links()
    ref = NXSDataWriterServer(threads=1)
    try:
        for device, name in ((ref.device, str(tmp_path / "ref.h5")), (writer.address, "mine.h5")):
            c = WriterClient(device)
            c.open(name, xml)
            c.entry({})
            for rec in recs:
                c.record(rec["data"])
            assert c.close().state == "ON"
    finally:
        ref.stop()
    assert_same(facts(str(tmp_path / "ref.h5")), facts(str(tmp_path / "mine.h5")))


def test_with_tango_host_the_writer_registers_itself_and_is_found_by_name(tmp_path):
    """pytango's own SQLite database server on loopback; ``ctlshell nxwriter`` registers
    ``NexusWriter/ctlshell`` there and a client reaches the writer by its name; the
    device properties MetadataOutput and DefaultCanFail put there apply at Init."""
    import os
    import time

    from ctlshell.testing import free_port

    port = free_port()
    env = dict(os.environ, TANGO_HOST=f"127.0.0.1:{port}", PYTANGO_DATABASE_NAME=str(tmp_path / "tango.db"))
    log = open(tmp_path / "servers.log", "wb")
    db = subprocess.Popen([sys.executable, "-m", "tango.databaseds.database", "--host", "127.0.0.1", "--port",
                           str(port), "2"], env=env, stdout=log, stderr=subprocess.STDOUT)
    procs = [db]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                tango.Database("127.0.0.1", port).get_info()
                break
            except tango.DevFailed:
                assert time.monotonic() < deadline and db.poll() is None, (tmp_path / "servers.log").read_text()
                time.sleep(0.1)
        data = tmp_path / "data"
        data.mkdir()
        srv = subprocess.Popen([sys.executable, "-m", "ctlshell.nexus._server", "--data-dir", str(data)], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
        procs.append(srv)
        name = f"tango://127.0.0.1:{port}/ctlshell/nexus/writer"
        while True:
            try:
                tango.DeviceProxy(name).ping()
                break
            except tango.DevFailed:
                assert time.monotonic() < deadline and srv.poll() is None, (tmp_path / "servers.log").read_text()
                time.sleep(0.1)
        assert tango.Database("127.0.0.1", port).get_device_info("ctlshell/nexus/writer").ds_full_name == \
            "NexusWriter/ctlshell"
        c = WriterClient(name)
        c.open("by_name.h5", XML)
        c.entry({"title": "by name"})
        c.record(step(0))
        c.close()
        with h5py.File(data / "by_name.h5", "r") as f:
            assert f["entry/instrument/detector/counts"][()].tolist() == [10.0]

        # NXSDataWriter's device properties, read at Init
        dp = tango.DeviceProxy(name)
        assert dp.CanFail is False and not (data / "by_name.h5.entry.json").exists()
        tango.Database("127.0.0.1", port).put_device_property(
            "ctlshell/nexus/writer", {"MetadataOutput": "file", "DefaultCanFail": True})
        dp.Init()
        assert dp.CanFail is True
        c.open("with_props.h5", XML)
        c.entry({"title": "with properties"})
        c.record(step(1))
        c.close()
        meta = json.loads((data / "with_props.h5.entry.json").read_text())
        assert meta["scientificMetadata"]["name"] == "entry"
    finally:
        for p in reversed(procs):
            stop_process(p)
        log.close()


@pytest.mark.parametrize("after", [0.3, 0.7])
def test_killed_while_recording_flat_out_loses_at_most_the_record_in_flight(tmp_path, after):
    import threading
    import time

    with WriterProcess(str(tmp_path)) as proc:
        c = WriterClient(proc.address)
        c.open("crash.h5", XML)
        c.entry({"title": "crash"})
        acked = []
        stop = threading.Event()

        def scan() -> None:
            i = 0
            while not stop.is_set():
                try:
                    c.record(step(i))
                except Exception:
                    return  # the writer is gone
                acked.append(i)
                i += 1

        t = threading.Thread(target=scan)
        t.start()
        time.sleep(after)
        proc.kill()
        stop.set()
        t.join(30)
    path = str(tmp_path / "crash.h5")
    with h5py.File(path, "r", swmr=True) as f:
        counts = f["entry/instrument/detector/counts"][()]
        mca = f["entry/instrument/detector/mca"][()]
    n = len(acked)
    # every acknowledged record is there; the one in flight may be there in some fields
    assert n > 10 and n <= len(counts) <= n + 1 and n <= len(mca) <= n + 1, (n, len(counts), len(mca))
    np.testing.assert_array_equal(counts, 10.0 + np.arange(len(counts)))  # no torn or filled rows
    np.testing.assert_array_equal(mca, np.arange(len(mca))[:, None] + np.arange(100))


def test_client_names_with_slashes_through_the_device_without_a_database(tmp_path):
    """Acceptance 5 through Tango: the writer runs with no TANGO_HOST at all."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "TANGO_HOST"}
    xml = XML.replace('<record name="counts"/>', '<record name="p09/counter/exp.01"/>')
    with WriterProcess(str(tmp_path), env=env) as proc:
        c = WriterClient(proc.address)
        c.open("slash.h5", xml)
        c.entry({"title": "slashes"})
        for i in range(3):
            c.record({"p09/counter/exp.01": 5.0 + i, "mca": list(range(100))})
        c.close()
    with h5py.File(tmp_path / "slash.h5", "r") as f:
        assert f["entry/instrument/detector/counts"][()].tolist() == [5.0, 6.0, 7.0]


def test_a_writer_started_by_a_process_stops_when_that_process_exits(tmp_path):
    import time

    import psutil

    code = ("import sys\nfrom ctlshell.nexus import start_writer\n"
            "w = start_writer(sys.argv[1])\nprint(w.pid, flush=True)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the writer outlived the process that started it"
        time.sleep(0.05)
