"""Acceptance 1: the same XML and JSON records given to nxswriter's NXSDataWriter and
to ctlshell's writer give files with the same groups, fields, shapes, dtypes, NX_class,
units and values (real HDF5 files, read back with h5py)."""

from __future__ import annotations

import numpy as np
import pytest

from .nexus_ref import assert_same, facts, run_ctlshell, run_nxswriter


def _client(name: str, key: str, nx_type: str = "NX_FLOAT64", units: str = "counts", mode: str = "STEP",
            dims: int = 0, extra: str = "") -> str:
    d = f'<dimensions rank="1"><dim index="1" value="{dims}"/></dimensions>' if dims else ""
    u = f' units="{units}"' if units else ""
    return (f'<field name="{name}" type="{nx_type}"{u}>{d}<strategy mode="{mode}"/>'
            f'<datasource type="CLIENT" name="{key}"><record name="{key}"/></datasource>{extra}</field>')


def _doc(body: str) -> str:
    return f'<?xml version="1.0"?><definition><group type="NXentry" name="entry">{body}</group></definition>'


def scalars() -> tuple:
    fields = "".join(_client(f"ch{i:02d}", f"ch{i:02d}") for i in range(10))
    fields += _client("n", "n", "NX_INT32", "") + _client("flag", "flag", "NX_BOOLEAN", "")
    fields += _client("label", "label", "NX_CHAR", "") + _client("pos", "pos", "NX_FLOAT32", "mm")
    xml = _doc(f'<group type="NXinstrument" name="instrument"><group type="NXdetector" name="detector">'
               f'{fields}</group></group>')
    rng = np.random.default_rng(1)
    recs = [{"data": {**{f"ch{i:02d}": float(rng.random()) for i in range(10)}, "n": s, "flag": s % 2 == 0,
                      "label": f"point {s}", "pos": 0.25 * s}} for s in range(25)]
    return xml, {}, recs, {}


def spectrum() -> tuple:
    xml = _doc('<group type="NXinstrument" name="instrument"><group type="NXdetector" name="detector">'
               + _client("mca", "mca", dims=1000) + _client("roi", "roi", "NX_INT64", "counts", dims=4)
               + '</group></group>')
    rng = np.random.default_rng(2)
    recs = [{"data": {"mca": rng.random(1000).tolist(), "roi": [s, s + 1, s + 2, 3 * s]}} for s in range(12)]
    return xml, {}, recs, {}


def init_final() -> tuple:
    xml = _doc(_client("title", "title", "NX_CHAR", "", "INIT") + _client("start_time", "start", "NX_DATE_TIME",
                                                                           "", "INIT")
               + _client("end_time", "end", "NX_CHAR", "", "FINAL") + _client("energy", "energy", "NX_FLOAT64",
                                                                              "keV", "INIT")
               + _client("runs", "runs", "NX_INT", "", "FINAL") + _client("axis", "axis", "NX_FLOAT32", "mm",
                                                                          "INIT", dims=5)
               + '<field name="program_name" type="NX_CHAR">ctlshell-compat</field>'
               + '<field name="wavelength" type="NX_FLOAT64" units="angstrom">1.54</field>'
               + _client("counts", "counts"))
    glob = {"title": "compat scan", "start": "2026-11-23T10:00:00", "energy": 12.4, "axis": [0, 1, 2, 3, 4.5]}
    recs = [{"data": {"counts": 10.0 * s}} for s in range(5)]
    return xml, glob, recs, {"end": "2026-11-23T10:05:00", "runs": 3}


def attrs_links() -> tuple:
    attr = '<attribute name="long_name" type="NX_CHAR">Detector counts</attribute>'
    xml = _doc('<attribute name="default" type="NX_CHAR">data<strategy mode="INIT"/></attribute>'
               '<group type="NXinstrument" name="instrument"><group type="NXdetector" name="detector">'
               + _client("counts", "counts", extra=attr) + _client("mca", "mca", dims=8)
               + '</group><group type="NXpositioner" name="motor">' + _client("value", "motor", units="mm")
               + '</group></group><group type="NXdata" name="data">'
               '<attribute name="signal" type="NX_CHAR">counts<strategy mode="INIT"/></attribute>'
               '<attribute name="axes" type="NX_CHAR">motor<strategy mode="INIT"/></attribute>'
               '<link name="counts" target="/entry/instrument/detector/counts"/>'
               '<link name="motor" target="/entry/instrument/motor/value"/>'
               '<link name="mca" target="/entry/instrument/detector/mca"/>'
               '<link name="by_class" target="/NXentry/NXinstrument/NXdetector/counts"/></group>')
    recs = [{"data": {"counts": 1.5 * s, "motor": 0.1 * s, "mca": [float(s)] * 8}} for s in range(6)]
    return xml, {}, recs, {}


def computed() -> tuple:
    """A PYEVAL field NXSDataWriter ``exec``s and ctlshell evaluates as checked arithmetic."""
    ev = ('<field name="rate" type="NX_FLOAT64" units="counts/s"><strategy mode="STEP"/>'
          '<datasource type="PYEVAL" name="rate">'
          '<datasource type="CLIENT" name="counts"><record name="counts"/></datasource>'
          '<datasource type="CLIENT" name="exposure"><record name="exposure"/></datasource>'
          '<result name="rate">ds.rate = (ds.counts - 2) / ds.exposure + abs(ds.counts) ** 2 - max(ds.counts, 1.5)</result>'
          '</datasource></field>')
    xml = _doc(_client("counts", "counts") + ev)
    recs = [{"data": {"counts": 3.0 * s - 4.0}} for s in range(6)]
    return xml, {"exposure": 0.5}, recs, {}


def triggers() -> tuple:
    """A STEP field with a trigger gets a point only in records that list the trigger."""
    slow = ('<field name="temperature" type="NX_FLOAT64" units="K"><strategy mode="STEP" trigger="slow"/>'
            '<datasource type="CLIENT" name="temperature"><record name="temperature"/></datasource></field>')
    xml = _doc(_client("counts", "counts") + slow)
    recs = []
    for s in range(6):
        rec: dict = {"data": {"counts": float(s)}}
        if s % 2 == 0:
            rec["data"]["temperature"] = 300.0 + s
            rec["triggers"] = ["slow"]
        recs.append(rec)
    return xml, {}, recs, {}


# -- configurations of the kinds nxswriter's own suite uses (issue 15) ----------------------
def suite_growing() -> tuple:
    """Shape from the data, grows="2", several points of a scalar in one record, units=""."""
    xml = _doc('<field name="mca" type="NX_FLOAT64" units=""><dimensions rank="1"/><strategy mode="STEP"/>'
               '<datasource type="CLIENT" name="mca"><record name="mca"/></datasource></field>'
               '<field name="mcat" type="NX_INT32" units="m"><dimensions rank="1"><dim index="1" value="3"/>'
               '</dimensions><strategy mode="STEP" grows="2"/>'
               '<datasource type="CLIENT" name="t"><record name="t"/></datasource></field>'
               + _client("c", "c"))
    recs = [{"data": {"mca": [0.5 * s] * 6, "t": [s, s + 1, s + 2], "c": [1.0 * s, 2.0 * s]}} for s in range(4)]
    return xml, {}, recs, {}


def suite_canfail() -> tuple:
    """canfail="true": a missing CLIENT value gives NXSDataWriter's fill value and marks."""
    xml = _doc(_client("c", "c").replace('<strategy mode="STEP"/>', '<strategy mode="STEP" canfail="true"/>')
               + _client("n", "n", "NX_INT64", ""))
    recs = [{"data": {"c": 1.0, "n": 1}}, {"data": {"n": 2}}, {"data": {"c": 3.0, "n": 3}}]
    return xml, {}, recs, {}


def suite_attrs() -> tuple:
    """STEP attributes, NX_BOOLEAN text, an array attribute from text, POSTRUN."""
    xml = _doc('<field name="d" type="NX_FLOAT64" units="s"><strategy mode="STEP"/>'
               '<datasource type="CLIENT" name="d"><record name="d"/></datasource>'
               '<attribute name="last" type="NX_FLOAT64"><strategy mode="STEP"/>'
               '<datasource type="CLIENT" name="d"><record name="d"/></datasource></attribute>'
               '<attribute name="flag" type="NX_BOOLEAN">True</attribute>'
               '<attribute name="roi" type="NX_INT32"><dimensions rank="1"><dim index="1" value="4"/></dimensions>'
               '1 2 3 4</attribute></field>'
               '<field name="img" type="NX_CHAR"><strategy mode="POSTRUN">file:///tmp/img_%05d.tif</strategy>'
               '</field>')
    recs = [{"data": {"d": 0.1 * s}} for s in range(3)]
    return xml, {}, recs, {}


CASES = {"scalars": scalars, "spectrum": spectrum, "init_final": init_final, "attrs_links": attrs_links,
         "computed": computed, "triggers": triggers, "suite_growing": suite_growing,
         "suite_canfail": suite_canfail, "suite_attrs": suite_attrs}


@pytest.mark.parametrize("case", list(CASES))
def test_same_file_as_nxsdatawriter(case, tmp_path):
    xml, glob, recs, final = CASES[case]()
    ref = facts(run_nxswriter(str(tmp_path / "ref.h5"), xml, glob, recs, final))
    mine = facts(run_ctlshell(str(tmp_path / "mine.h5"), xml, glob, recs, final))
    assert len(ref) >= 3
    assert_same(ref, mine)


def test_client_names_with_slashes_need_no_tango_database(tmp_path, monkeypatch):
    """Acceptance 5: Tango-style CLIENT names (p09/counter/exp.01) are plain JSON keys."""
    monkeypatch.delenv("TANGO_HOST", raising=False)
    xml = _doc(_client("counts", "p09/counter/exp.01") + _client("title", "p09/meta/title", "NX_CHAR", "", "INIT"))
    recs = [{"data": {"p09/counter/exp.01": 5.0 + s}} for s in range(3)]
    path = run_ctlshell(str(tmp_path / "slash.h5"), xml, {"p09/meta/title": "slashes"}, recs, {})
    got = facts(path)
    np.testing.assert_array_equal(got["entry/counts"]["value"], [5.0, 6.0, 7.0])
    assert got["entry/title"]["value"] == "slashes"
