"""A TANGO source under CanFail whose device server is killed and started again
mid-scan (issue 15, nxswriter's ``test_tango*_canfail``): the points while it is down
are filled and marked, and the first record after it answers again reads it; a FINAL
field shaped by its data, read while the server is down, is filled in the shape its
source had at OpenEntry (NXSDataWriter sizes it from that reading).

cppTango refuses a proxy's reconnection within 1 s of its last failed attempt
("connection request was delayed"); a writer that keeps that proxy fills points of a
device that is back. The device is read through ctlshell's own ``tango://`` backend.
"""

from __future__ import annotations

import threading
import time

import h5py
import numpy as np
import tango

from ctlshell.nexus._tango_source import TangoReader
from ctlshell.nexus._writer import FileWriter

from .tango_fixtures import device

XML = """<definition><group type="NXentry" name="entry1"><group type="NXinstrument" name="instrument">
  <group type="NXdetector" name="detector">
    <field name="value" type="NX_FLOAT64" units="mm"><strategy mode="STEP" canfail="true"/>
      <datasource type="TANGO"><device member="attribute" name="{dev}"/><record name="double_scalar"/>
      </datasource></field>
    <field name="last_image" type="NX_UINT16"><strategy mode="FINAL" canfail="true"/><dimensions rank="2"/>
      <datasource type="TANGO"><device member="attribute" name="{dev}"/><record name="ushort_image"/>
      </datasource></field>
  </group></group></group></definition>"""


def _answers(name: str) -> bool:
    """An independent check with a new pytango proxy: does the device answer now?"""
    try:
        tango.DeviceProxy(name).ping()
        return True
    except tango.DevFailed:
        return False


def test_the_first_record_after_a_restart_reads_the_device(tango_servers, tmp_path, monkeypatch):
    server = tango_servers("db")
    dev = device(server)
    monkeypatch.setenv("TANGO_HOST", server.database.host)
    writer = FileWriter({"TANGO": TangoReader()}, data_dir=str(tmp_path))
    writer.file_name = "restart.h5"
    writer.open_file()
    writer.xml = XML.format(dev=dev)
    writer.open_entry()
    writer.record("{}")  # up: 1.5, the device's first value

    server.kill()
    starter = threading.Thread(target=server.start, name="restart-server")
    starter.start()
    failed = 0
    while not _answers(dev):  # the writer's proxy keeps failing while the server comes up
        writer.record("{}")
        failed += 1
        time.sleep(0.05)
    writer.record("{}")  # at once: within 1 s of the last failed read
    starter.join(30)
    server.kill()
    writer.close_file()  # FINAL: the image cannot be read now

    with h5py.File(tmp_path / "restart.h5", "r") as f:
        image = f["entry1/instrument/detector/last_image"]
        assert image.shape == (3, 4) and np.all(image[...] == np.iinfo(np.uint16).max), image[...]
        assert image.attrs["nexdatas_canfail"] == "FAILED"
        values = f["entry1/instrument/detector/value"][...]
        severity = f["nexus_logs/ctlshell/entry1/instrument/detector/value_severity"][...]
    print(f"{failed} records while the server was down or starting")
    assert failed >= 1
    assert values[0] == 1.5 and values[-1] == 1.5, values
    filled = values == np.finfo(np.float64).max
    # the server may come up between the loop's check and its record: then that record reads
    # the device too; every point is either the device's value or the fill, marked so
    assert filled[1] and np.all((values == 1.5) | filled), values
    assert not np.any(filled[np.argmin(filled[1:]) + 1:]), "a failed read after the device answered"
    assert np.all(severity == np.where(filled, 3, 0)), severity
