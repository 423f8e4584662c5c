"""Acceptance 1: every notebook in ``notebooks/`` runs top to bottom in a fresh kernel
(nbclient), with no errors, on loopback and on ports of its own; the quick start's
widgets and live plots are real widget views in its outputs."""

from __future__ import annotations

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


#: what each notebook prints when its servers really answered
EXPECTED = {
    "hosting.ipynb": ("6.0", "move took", "refused:", "True"),
    "proxies.ipynb": ("DimensionalityError", "1.5", "State.ON True", "readbacks queued: True state: State.ON",
                      "['frac', 'sec', 'tid']"),
    "pva_gateway.ipynb": ("refused:", "through the gateway: 4.0", "True"),
    # 13 points, units from the XML, the peak of the demo detector (2.5 mm) found in the
    # file, the writer's own CA readings stamped in order
    "nexus_scan.ipynb": ("ON", "points: 13 units: counts title: peak scan", "peak at 2.5 mm",
                         "timestamps increase: True"),
    # a 26-point scan over the demo's peak at 2.5 mm, its NeXus file read back
    "scans.ipynb": ("peak at 2.5 mm", "points: 26 exit status: success", "SC:MOTOR"),
}


def all_notebooks() -> list[str]:
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("name", all_notebooks())
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    nb = run(name, tmp_path, monkeypatch)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    for expected in EXPECTED.get(name, ()):
        assert expected in text
    if name == "quickstart.ipynb":
        text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
        assert "SLEEP_DONE" in text and "CONTROL_WRITES=0" in text  # no monitor update was written back
        assert views(nb) == ["HTMLModel", "VBoxModel", "HTMLModel", "VBoxModel", "VBoxModel"]
        state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        models = {s["model_name"] for s in state.values()}
        assert {"FloatSliderModel", "ImageModel", "ToggleButtonModel"} <= models
