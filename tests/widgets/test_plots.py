"""Live plots and the device panel in-process, on the demo beamline and a hosted
daemon: ring buffers keep their stated length, drawing stays at or under the
frame-rate cap, pause stops drawing, and the scan view pairs detector with motor."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import ctlshell
from ctlshell import widgets
from ctlshell.demo import DemoBeamline
from ctlshell.examples.oven import Oven
from ctlshell.proxies import connect_device, disconnect_device

from ..waiting import wait_for


@pytest.fixture
def demo(prefix):
    beamline = ctlshell.host(DemoBeamline(prefix))
    yield beamline
    ctlshell.unhost(beamline)


def test_strip_chart_ring_is_bounded_and_drawing_capped(prefix):
    pv = ctlshell.host(f"{prefix}FAST", 0.0, units="V")
    stop = threading.Event()

    def feed() -> None:
        i = 0
        while not stop.is_set():
            pv.value = float(np.sin(i / 50))
            i += 1
            time.sleep(0.0005)

    feeder = threading.Thread(target=feed, daemon=True)
    chart = widgets.StripChart(pv.address, length=200, window=10, fps=10, interactive=False)
    try:
        feeder.start()
        wait_for(lambda: chart.rings[pv.address].count > 400, 10)
        t0, d0 = time.monotonic(), chart.drawn
        time.sleep(2.0)
        rate = (chart.drawn - d0) / (time.monotonic() - t0)
        assert 3 <= rate <= 11, rate  # the cap is 10 frames/s, whatever the update rate
        ring = chart.rings[pv.address]
        assert len(ring) == 200 and ring.arrays()[0].shape == (200,)
        x, y = chart.lines[pv.address].get_data()
        assert len(x) > 10 and np.all(x <= 0) and np.all(x >= -10)
        chart.pause()
        time.sleep(0.3)
        paused_at = chart.drawn
        time.sleep(1.0)
        assert chart.drawn == paused_at  # paused: data flow on, nothing is drawn
        chart.resume()
        wait_for(lambda: chart.drawn > paused_at, 5)
        assert chart.png()[:4] == b"\x89PNG"
    finally:
        stop.set()
        feeder.join(5)
        chart.close()
        pv.remove()


def test_waveform_and_scan_views_on_the_demo(demo, prefix):
    ctlshell.put(f"ca://{prefix}SHUTTER", 0, wait=True)  # Open
    ctlshell.put(f"ca://{prefix}MOTOR.VELO", 10.0, wait=True)
    spectrum = widgets.plot(f"ca://{prefix}SPECTRUM", interactive=False)
    scan = widgets.ScanView(f"ca://{prefix}DET:COUNTS", f"ca://{prefix}MOTOR.RBV", interactive=False)
    try:
        assert isinstance(spectrum, widgets.WaveformView)
        wait_for(lambda: len(spectrum.line.get_xdata()) == 1000, 10)
        assert np.nanmax(spectrum.line.get_ydata()) > 20  # the peak of the open shutter
        ctlshell.put(f"ca://{prefix}MOTOR", 5.0, wait=True)
        wait_for(lambda: len(scan.ring) > 20, 10)
        x, y = scan.ring.arrays()
        assert x.min() < 1.0 and x.max() > 4.0  # points along the move
        assert y[np.argmin(abs(x - 2.5))] > 10 * np.median(y[x > 4.5])  # the peak at 2.5 mm
    finally:
        spectrum.close()
        scan.close()


def test_device_panel_shows_and_writes_through_the_proxy(prefix):
    oven = ctlshell.host(Oven(prefix))
    proxy = connect_device(f"local://{prefix}")
    panel = widgets.DevicePanel(proxy, fps=10)
    try:
        wait_for(lambda: "295.00" in panel.table.value or "295.0" in panel.table.value, 10)
        assert set(panel.entries) >= {"SETPOINT", "RAMP"} and "TEMP" not in panel.entries
        panel.entries["SETPOINT"]._handle_msg(
            {"content": {"data": {"method": "update", "state": {"value": "300"}}}, "buffers": []})
        wait_for(lambda: ctlshell.get(f"ca://{prefix}SETPOINT").value == 300.0, 10)
        panel.entries["SETPOINT"]._handle_msg(
            {"content": {"data": {"method": "update", "state": {"value": "900"}}}, "buffers": []})
        wait_for(lambda: "limit" in panel.error.value or "900" in panel.error.value, 10)
        assert ctlshell.get(f"ca://{prefix}SETPOINT").value == 300.0  # refused, nothing written
    finally:
        panel.close()
        disconnect_device(proxy)
        ctlshell.unhost(oven)
