"""The NeXus layout of a run names the plan's first detector as its signal, whatever
order the descriptor's keys came in (bluesky 1.16 reads a point's detectors
concurrently: the keys come in the order the reads ended)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ctlshell.scans._nexus_config import config_xml


def _key() -> dict:
    return {"dtype": "number", "shape": [], "source": "ca://X"}


def _signal_and_detectors(start: dict, keys: list[str]) -> tuple[str, list[str]]:
    root = ET.fromstring(config_xml(start, {"data_keys": {k: _key() for k in keys}}))
    data = root.find("./group[@name='entry']/group[@name='data']")
    signal = data.find("./attribute[@name='signal']").text
    instrument = root.find("./group[@name='entry']/group[@name='instrument']")
    detectors = [g.get("name") for g in instrument.findall("./group[@type='NXdetector']")]
    return signal, detectors


def test_the_signal_is_the_first_detector_of_the_plan_not_of_the_descriptor():
    start = {"motors": ["m"], "detectors": ["dbl", "lng"]}
    signal, detectors = _signal_and_detectors(start, ["m", "lng", "dbl"])
    assert signal == "dbl" and detectors == ["dbl", "lng"]


def test_fields_of_a_device_follow_their_device_and_the_closest_name_owns_a_key():
    start = {"motors": ["m"], "detectors": ["det_2", "det"]}
    keys = ["m", "det_x", "other", "det_2_x", "det_2"]
    signal, detectors = _signal_and_detectors(start, keys)
    assert signal == "det_2_x"
    assert detectors == ["det_2_x", "det_2", "det_x", "other"]  # det_2's keys, det's, then the rest


def test_without_a_detector_list_the_descriptor_order_stays():
    signal, detectors = _signal_and_detectors({"motors": ["m"]}, ["m", "b", "a"])
    assert signal == "b" and detectors == ["b", "a"]


def test_the_live_table_shows_the_detectors_in_the_plan_order(capsys):
    import time

    from ctlshell.scans._feedback import Feedback

    feedback = Feedback(table=True)
    now = time.time()
    feedback("start", {"uid": "s", "time": now, "motors": ["m"], "detectors": ["dbl", "lng"],
                       "plan_name": "scan", "scan_id": 1})
    keys = {k: {"dtype": "number", "shape": [], "source": k, "object_name": k} for k in ("m", "lng", "dbl")}
    feedback("descriptor", {"uid": "d", "run_start": "s", "time": now, "name": "primary", "data_keys": keys,
                            "object_keys": {k: [k] for k in keys}, "hints": {k: {"fields": [k]} for k in keys}})
    feedback("event", {"uid": "e", "descriptor": "d", "time": now, "seq_num": 1,
                       "data": {"m": 1.0, "lng": 7, "dbl": 4.25}, "timestamps": {k: now for k in keys}})
    header = next(line for line in capsys.readouterr().out.splitlines() if "seq_num" in line)
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns == ["seq_num", "time", "m", "dbl", "lng"], header
