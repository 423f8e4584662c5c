"""Acceptance 2 in a real browser: JupyterLab on 127.0.0.1, the quick-start notebook
run in Debian's headless Chromium (Playwright, no browser download). The widgets
render, the live plot changes while a ``time.sleep`` cell runs (two screenshots
differ), and dragging the control's slider writes the PV once (read back with
pyepics in another process). Screenshots are kept in ``tests/artefacts/``."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest

from ..notebooks.kernels import NOTEBOOKS, kernel_env
from .conftest import pyepics
from .lab import CHROMIUM, CHROMIUM_ARGS, JS_KERNEL_IDLE, LabServer, assert_widgets_rendered, output_with_text

pytestmark = [pytest.mark.timeout(240)]

ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"
SLIDER = ".jp-OutputArea-output .ctlshell-control"


def digest(png: bytes) -> str:
    return hashlib.sha1(png).hexdigest()


def test_quickstart_in_jupyterlab(tmp_path):
    # playwright is a test dependency (pyproject.toml): missing, the test fails, it never skips
    import playwright.sync_api as sync_api
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs it (apt-get install -y chromium)")
    ARTEFACTS.mkdir(exist_ok=True)
    env, ca_port = kernel_env(tmp_path)
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(NOTEBOOKS / "quickstart.ipynb", root / "quickstart.ipynb")
    server = LabServer(root, env, tmp_path / "jupyterlab.log").start()
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(90_000)
            try:
                drive(page, server, ca_port)
            except Exception:
                page.screenshot(path=str(ARTEFACTS / "FAILED_quickstart.png"), full_page=True)
                raise
            finally:
                browser.close()
    finally:
        server.stop()


def drive(page, server: LabServer, ca_port: int) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.lab_url("quickstart.ipynb"))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook")
    page.wait_for_function(JS_KERNEL_IDLE)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    # the strip chart of `%pv plot` is the first canvas; the scan cell's output means
    # the next cell, time.sleep(8), is running now
    canvas = page.locator(".jp-OutputArea-output img.ctlshell-plot-image").first
    canvas.wait_for(state="visible")
    output_with_text(page, "points").wait_for()
    sleeping = page.locator(".jp-CodeCell", has_text="time.sleep(15)").locator(".jp-InputPrompt")
    page.wait_for_function("(el) => el.textContent.includes('*')", arg=sleeping.element_handle())
    canvas.scroll_into_view_if_needed()
    before = canvas.screenshot(path=str(ARTEFACTS / "lab_plot_during_sleep_0.png"))
    time.sleep(2.0)
    after = canvas.screenshot(path=str(ARTEFACTS / "lab_plot_during_sleep_1.png"))
    still_sleeping = "*" in sleeping.inner_text() and output_with_text(page, "SLEEP_DONE").count() == 0
    page.screenshot(path=str(ARTEFACTS / "lab_during_sleep.png"))
    assert still_sleeping, "the sleep cell ended before the second screenshot"
    assert digest(before) != digest(after), "the live plot did not change while the cell slept"

    output_with_text(page, "CONTROL_WRITES=0").wait_for()  # Run All done, nothing written back
    assert_widgets_rendered(page, ("FloatSlider(", "HTML(value", "VBox(children"))
    assert page.locator(".ctlshell-readout").count() >= 2 and page.locator(".ctlshell-monitor-table").count() == 1
    handle = page.locator(f"{SLIDER} .noUi-handle")
    handle.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTEFACTS / "lab_widgets_before_drag.png"))
    start = float(handle.get_attribute("aria-valuenow"))
    assert start == pytest.approx(295.0)

    # a person drags the slider to 70 % of its track (4..500 K)
    box = handle.bounding_box()
    track = page.locator(f"{SLIDER} .noUi-base").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] * 0.7, y, steps=10)
    page.mouse.up()
    deadline = time.monotonic() + 20
    while True:
        value = pyepics("describe", "DEMO:SAMPLE:TEMP", ports=[ca_port])["DEMO:SAMPLE:TEMP"]["value"]
        if value != pytest.approx(295.0) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert 300 < value < 400, value  # ~351 K, written through CA from the slider
    cells = page.locator(".jp-Notebook .jp-Cell").count()
    page.evaluate("""(i) => { const nb = window.jupyterapp.shell.currentWidget.content;
                      nb.activeCellIndex = i; return window.jupyterapp.commands.execute('notebook:run-cell'); }""",
                  cells - 2)  # the CONTROL_WRITES cell
    output_with_text(page, "CONTROL_WRITES=1").wait_for()  # one move, one write
    page.screenshot(path=str(ARTEFACTS / "lab_writes_after_drag.png"))
    handle.scroll_into_view_if_needed()
    assert 300 < float(handle.get_attribute("aria-valuenow")) < 400
    page.screenshot(path=str(ARTEFACTS / "lab_widgets_after_drag.png"))
