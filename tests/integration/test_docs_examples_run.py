"""The guide's remaining examples run as written (on loopback, with this run's ports):
PV Access hosting, the gateway, the two-network gateway file, Tango test devices, the
NeXus writer from Python and its MetadataOutput, and ``Results`` as a mapping.

Where a page names a fixed port or folder, the test substitutes one of its own (each
substitution must occur in the example)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

import ctlshell
from ctlshell.testing import free_port

from ..conftest import PVA_SEARCH
from ..readme import example_code, find_example, run_example
from ._pva import next_pool_port


def test_pva_hosting_example_is_seen_on_both_protocols() -> None:
    out = run_example("docs/guide/pva.md", "## Hosting on PV Access")
    assert out[0].startswith("pva://DEMO:GAP = 2.50 mm")  # read over PV Access, with its units
    assert out[1] == "4.0"  # the PVA put, read back over CA
    assert not any(n in ctlshell.hosted() for n in ("DEMO:GAP", "DEMO:CA_ONLY"))


def test_gateway_example_starts_and_stops_a_gateway() -> None:
    port = next_pool_port()
    upstream = free_port(avoid=[p for s in PVA_SEARCH for p in (s - 1, s)])  # nothing serves there
    status = f"GW{uuid.uuid4().hex[:6]}:"
    out = run_example("docs/guide/pva.md", "## The gateway", replace={
        "127.0.0.1:5076": f"127.0.0.1:{upstream}", "5085": str(port), "5086": str(port + 1),
        '"GW:"': repr(status)})
    assert f"('127.0.0.1:{upstream}',) -> ('127.0.0.1',):{port} pid" in out[0], out  # upstream -> served port
    assert f"'{status}cache'" in out[0]  # its status PVs


def test_two_network_gateway_config_is_the_json_shown() -> None:
    code = example_code("docs/howto/gateway-two-networks.md", "# Deploy the PVA gateway")
    namespace: dict[str, Any] = {}
    exec(compile(code, "gateway-two-networks.md", "exec"), namespace)  # noqa: S102 (our own docs)
    shown = json.loads(find_example("docs/howto/gateway-two-networks.md", "# Deploy", 0, language="json").code)
    assert namespace["site"].to_json() == shown  # the file p4p.gw reads is the one the page shows


def test_tango_test_devices_example_reads_the_motor() -> None:
    out = run_example("docs/guide/tango.md", "## Test devices and an embedded database")
    assert re.match(r"tango://127\.0\.0\.1:\d+/demo/ctl/motor/position = -?\d", out[0]), out


def test_nexus_from_python_example_writes_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    xml = find_example("docs/guide/nexus.md", "## The writer device", 0, language="xml").code
    (tmp_path / "scan.xml").write_text(xml)  # "Save this as scan.xml"
    out = run_example("docs/guide/nexus.md", "## From Python", replace={"/tmp": str(tmp_path)})
    assert out == ["[100. 101. 102. 103. 104.] counts"]  # the five records, read back with h5py


def test_nexus_metadata_output_example_skips_one_record(tmp_path: Path) -> None:
    pytest.importorskip("nxstools")  # the page says MetadataOutput needs it
    out = run_example("docs/guide/nexus.md", "## Device properties", replace={"tempfile.mkdtemp()": repr(str(tmp_path))})
    assert out == ["[2]"]  # three records, one skipped


def test_results_example_prints_what_the_page_shows() -> None:
    out = run_example("docs/guide/many-channels.md", "## `Results` is a mapping")
    shown = find_example("docs/guide/many-channels.md", "## `Results` is a mapping", 0, language="").code
    assert out == shown.splitlines()  # what the page says it prints
    assert not any(n.startswith("DOCS:RES") for n in ctlshell.hosted())
