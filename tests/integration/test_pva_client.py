"""The first cut of the ``pva://`` backend against a real, isolated p4p server
(loopback only, ports of its own). The PV Access issue extends this."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from p4p.nt import NTEnum, NTScalar
from p4p.server import Server
from p4p.server.thread import SharedPV

import ctlshell


@pytest.fixture(scope="module")
def pva_server():
    temp = SharedPV(nt=NTScalar("d", display=True, control=True), initial=21.5)
    wave = SharedPV(nt=NTScalar("ad"), initial=np.arange(5.0))
    mode = SharedPV(nt=NTEnum(), initial={"index": 1, "choices": ["Off", "On"]})

    temp.post(21.5, timestamp=time.time())  # an initial= value carries no timestamp

    @temp.put
    def _put(pv, op):
        pv.post(op.value(), timestamp=time.time())
        op.done()

    server = Server(providers=[{"PVAT:TEMP": temp, "PVAT:WAVE": wave, "PVAT:MODE": mode}], isolate=True)
    conf = server.conf()
    assert conf["EPICS_PVAS_INTF_ADDR_LIST"].startswith("127.")
    saved = {k: os.environ.get(k) for k in conf}
    os.environ.update(conf)  # read when the pva backend creates its context (first use)
    yield temp
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_pva_get_put_info_monitor(pva_server):
    r = ctlshell.get("pva://PVAT:TEMP")
    assert r.value == 21.5 and r.severity is ctlshell.Severity.NO_ALARM and abs(r.age) < 60
    assert list(ctlshell.get("pva://PVAT:WAVE").value) == [0, 1, 2, 3, 4]
    assert ctlshell.get("pva://PVAT:MODE").value == 1
    assert ctlshell.info("pva://PVAT:MODE").choices == ("Off", "On")
    assert ctlshell.info("pva://PVAT:WAVE").count == 5

    seen = []
    got = threading.Event()
    with ctlshell.monitor("pva://PVAT:TEMP", lambda r: (seen.append(r.value), r.value == 30.0 and got.set())):
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        ctlshell.put("pva://PVAT:TEMP", 30.0, wait=True)
        assert got.wait(5)
    assert seen[0] == 21.5 and seen[-1] == 30.0
    with pytest.raises(ctlshell.ValidationError):
        ctlshell.put("pva://PVAT:TEMP", "warm")
    assert ctlshell.get("pva://PVAT:TEMP").value == 30.0


def test_pva_unknown_name_times_out(pva_server):
    with pytest.raises(ctlshell.ChannelTimeoutError, match="pva://PVAT:NOPE"):
        ctlshell.get("pva://PVAT:NOPE", timeout=0.5)
