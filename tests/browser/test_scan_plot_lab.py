"""Issue 20, acceptance 5 in a real browser: in JupyterLab (127.0.0.1, Debian's
headless Chromium through Playwright), a cell running a 40-point scan shows the run's
live plot (``RE.subscribe(RunPlot())``), and the plot changes between two screenshots
taken while that cell is still running. Screenshots are kept in ``tests/artefacts/``."""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from ..notebooks.kernels import NOTEBOOKS, kernel_env
from .lab import CHROMIUM, CHROMIUM_ARGS, JS_KERNEL_IDLE, LabServer, assert_widgets_rendered, output_with_text

pytestmark = [pytest.mark.timeout(240)]

ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"


def _notebook(prefix: str) -> nbformat.NotebookNode:
    setup = f"""import ctlshell, ctlshell.demo
from ctlshell.scans import RE, scan
from ctlshell.widgets import RunPlot
demo = ctlshell.demo.start("{prefix}")
ctlshell.put("{prefix}SHUTTER", "Open", wait=True)
ctlshell.put("{prefix}MOTOR.VELO", 0.5, wait=True)  # 0.125 mm steps take 0.25 s: 40 points take ~10 s
RE.subscribe(RunPlot())
print("SETUP_DONE")"""
    run = f'RE(scan(["{prefix}DET:COUNTS"], "{prefix}MOTOR", 0, 5, 40))'
    done = 'print("SCAN_DONE")'
    quickstart = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)  # its kernel, no dialog
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in (setup, run, done)],
                                    metadata=quickstart.metadata)


def test_the_live_plot_of_a_running_scan_moves_in_jupyterlab(tmp_path):
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs it (apt-get install -y chromium)")
    ARTEFACTS.mkdir(exist_ok=True)
    env, _ = kernel_env(tmp_path)
    root = tmp_path / "lab"
    root.mkdir()
    nbformat.write(_notebook(f"BR{uuid.uuid4().hex[:6]}:"), root / "scan_plot.ipynb")
    server = LabServer(root, env, tmp_path / "jupyterlab.log").start()
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(90_000)
            try:
                drive(page, server)
            except Exception:
                page.screenshot(path=str(ARTEFACTS / "FAILED_scan_plot.png"), full_page=True)
                raise
            finally:
                browser.close()
    finally:
        server.stop()


def drive(page, server: LabServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.lab_url("scan_plot.ipynb"))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook")
    page.wait_for_function(JS_KERNEL_IDLE)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    output_with_text(page, "SETUP_DONE").wait_for()
    scanning = page.locator(".jp-CodeCell", has_text="RE(scan(").locator(".jp-InputPrompt")
    plot = page.locator(".jp-OutputArea-output img.ctlshell-plot-image").first
    plot.wait_for(state="visible")
    output_with_text(page, "seq_num").wait_for()  # the live table: events are coming
    page.wait_for_function("(el) => el.textContent.includes('*')", arg=scanning.element_handle())
    plot.scroll_into_view_if_needed()
    before = plot.screenshot(path=str(ARTEFACTS / "lab_scan_plot_0.png"))
    time.sleep(2.0)
    after = plot.screenshot(path=str(ARTEFACTS / "lab_scan_plot_1.png"))
    still_running = "*" in scanning.inner_text() and output_with_text(page, "SCAN_DONE").count() == 0
    page.screenshot(path=str(ARTEFACTS / "lab_scan_running.png"))
    assert still_running, "the scan cell ended before the second screenshot"
    assert hashlib.sha1(before).digest() != hashlib.sha1(after).digest(), "the live plot did not move"
    output_with_text(page, "SCAN_DONE").wait_for()
    assert_widgets_rendered(page, ("VBox(children", "Image(value"))
