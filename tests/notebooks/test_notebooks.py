"""Acceptance 1: every notebook in ``notebooks/`` runs top to bottom in a fresh kernel
(nbclient), with no errors, on loopback and on ports of its own; the quick start's
widgets and live plots are real widget views in its outputs."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from .kernels import NOTEBOOKS, kernel_env



def run(name: str, tmp_path, monkeypatch) -> nbformat.NotebookNode:
    env, _ = kernel_env(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the kernel inherits it
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=90, startup_timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}, store_widget_state=True).execute()
    return nb


def views(nb: nbformat.NotebookNode) -> list[str]:
    """Model names of the widget views the cells displayed."""
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    names = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if view:
                names.append(state[view["model_id"]]["model_name"])
    return names


#: the lines each notebook prints when its servers really answered, in order: each is a
#: whole output line (``*`` stands for a figure that varies); a check a notebook
#: prints is matched by its own line, so one "True" cannot stand in for another
EXPECTED = {
    "hosting.ipynb": ("6.0", "move took * s; RBV = 2.000 mm", "True",  # the counter counts
                      "refused: ca://NB:OVEN:SETPOINT: 900.0 K is outside the control limits [4.0, 500.0] K",
                      "True"),  # the strip chart got the oven's ramp
    "proxies.ipynb": ("310.0 K True", "DimensionalityError", "310.0 K", "1.5 mm", "State.ON True *",
                      "readbacks queued: True state: State.ON", "0.5 ['frac', 'sec', 'tid']"),
    "pva_gateway.ipynb": ("4.0", "refused: pva://PV:GAP: 50.0 mm is outside the control limits [0.0, 20.0] mm",
                          "True",  # the PVA image view drew frames
                          "through the gateway: 4.0"),
    # 13 points, units from the XML, the peak of the demo detector (2.5 mm) found in the
    # file, the writer's own CA readings stamped in order
    "nexus_scan.ipynb": ("ON", "points: 13 units: counts title: peak scan", "peak at 2.5 mm",
                         "timestamps increase: True"),
    # a 26-point scan over the demo's peak at 2.5 mm, its NeXus file read back
    "scans.ipynb": ("peak at 2.5 mm, fwhm *", "SC:MOTOR: *", "points: 26 exit status: success"),
}


def missing_lines(expected: tuple[str, ...], lines: list[str]) -> list[str]:
    """The expected lines not found, in order, among ``lines`` (each line matches once)."""
    rest = iter(lines)

    def matches(line: str, pattern: str) -> bool:
        return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), line) is not None

    return [pattern for pattern in expected if not any(matches(line, pattern) for line in rest)]


def all_notebooks() -> list[str]:
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("name", all_notebooks())
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    nb = run(name, tmp_path, monkeypatch)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    lines = text.splitlines()
    assert not missing_lines(EXPECTED.get(name, ()), lines), (missing_lines(EXPECTED.get(name, ()), lines), text)
    assert "False" not in lines, f"a check the notebook prints failed:\n{text}"
    if name == "quickstart.ipynb":
        text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "SLEEP_DONE" in text and "CONTROL_WRITES=0" in text  # no monitor update was written back
        assert views(nb) == ["HTMLModel", "VBoxModel", "HTMLModel", "VBoxModel", "VBoxModel"]
        state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        models = {s["model_name"] for s in state.values()}
        assert {"FloatSliderModel", "ImageModel", "ToggleButtonModel"} <= models
