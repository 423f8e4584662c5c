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
        # the cap is 10 frames/s, whatever the update rate (2 kHz): an upper bound that
        # load cannot break; under load it draws fewer, but it draws
        assert rate <= 11, rate
        wait_for(lambda: chart.drawn >= d0 + 3, 20)
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
        x, y = scan.points()
        assert x.min() < 1.0 and x.max() > 4.0  # points along the move
        assert y[np.argmin(abs(x - 2.5))] > 10 * np.median(y[x > 4.5])  # the peak at 2.5 mm
    finally:
        spectrum.close()
        scan.close()


def test_counts_and_millimetres_get_separate_y_axes(demo, prefix):
    counts, rbv = f"ca://{prefix}DET:COUNTS", f"ca://{prefix}MOTOR.RBV"
    ctlshell.put(f"ca://{prefix}SHUTTER", "Open", wait=True)
    ctlshell.put(f"ca://{prefix}MOTOR.VELO", 10.0, wait=True)
    chart = widgets.StripChart([counts, rbv], window=30, fps=10, interactive=False)
    try:
        assert chart.axis_of[counts] is not chart.axis_of[rbv]
        assert (chart.axis_of[counts].get_ylabel(), chart.axis_of[rbv].get_ylabel()) == ("counts", "mm")
        ctlshell.put(f"ca://{prefix}MOTOR", 5.0, wait=True)
        drawn = chart.drawn
        wait_for(lambda: chart.drawn > drawn + 1, 10)
        lo, hi = chart.axis_of[rbv].get_ylim()
        _, y = chart.lines[rbv].get_data()
        assert y.max() - y.min() > 0.5 * (hi - lo)  # the move fills its own axis: no flat line
        assert hi < 20  # a millimetre scale, not the 0-1000 of the counts
        assert chart.axis_of[counts].get_ylim()[1] > 300  # the peak of ~1000 counts on the other
    finally:
        chart.close()


def test_a_silent_pv_is_drawn_up_to_now(prefix):
    pv = ctlshell.host(f"{prefix}QUIET", 1.5, units="V")
    chart = widgets.StripChart(pv.address, window=10, fps=10, interactive=False)
    try:
        wait_for(lambda: chart.rings[pv.address].count >= 1, 10)
        time.sleep(5.0)  # nothing changes for 5 s
        drawn = chart.drawn
        wait_for(lambda: chart.drawn > drawn, 5)  # redrawn although nothing arrived
        x, y = chart.lines[pv.address].get_data()
        (t_update,) = chart.rings[pv.address].arrays()[0]  # the one update, 5 s ago
        assert time.time() - t_update >= 5.0
        assert x[-1] == 0.0 and y[-1] == 1.5  # held up to now
        # from that update on, as one flat step (a frame takes a while on a loaded machine)
        assert len(x) == 2 and x[0] <= -4.0 and np.all(y == 1.5)
    finally:
        chart.close()
        pv.remove()


@pytest.mark.parametrize("run", range(3))
def test_scan_view_puts_the_peak_at_its_position(demo, prefix, run):
    ctlshell.put(f"ca://{prefix}SHUTTER", "Open", wait=True)
    ctlshell.put(f"ca://{prefix}MOTOR", 0.0, wait=True)
    scan = widgets.ScanView(f"ca://{prefix}DET:COUNTS", f"ca://{prefix}MOTOR.RBV", interactive=False)
    try:
        ctlshell.put(f"ca://{prefix}MOTOR", 5.0, wait=True)  # the demo scan: 0 to 5 mm at 2 mm/s
        time.sleep(0.3)
        x, y = scan.points()
        assert x.min() < 0.5 and x.max() > 4.5 and len(x) > 50
        centre, top = scan.peak()
        assert abs(centre - 2.5) < 0.1, centre
        assert top > 500
        # no high count away from the peak (mean 1000 at 2.5 mm, below 510 beyond 0.6 mm)
        assert not np.any((y > 800) & (abs(x - 2.5) > 0.6)), list(zip(x[y > 800], y[y > 800]))
    finally:
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
