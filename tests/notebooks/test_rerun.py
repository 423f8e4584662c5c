"""Issue 14, acceptance 4: the quick start run twice in one kernel (Run All, then Run
All again) passes, and after a kernel restart Run All shows no error output."""

from __future__ import annotations

import nbformat
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

from .kernels import NOTEBOOKS, kernel_env, without_the_long_sleep


def _problems(nb: nbformat.NotebookNode) -> list[str]:
    """Error outputs, and stderr that reads like one (a red box in Jupyter)."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{out['ename']}: {out['evalue']}")
            elif out.get("name") == "stderr" and any(w in out.get("text", "") for w in ("Error", "taken", "Traceback")):
                found.append(out["text"])
    return found


def test_quickstart_runs_twice_in_one_kernel_and_after_a_restart(tmp_path, monkeypatch):
    env, _ = kernel_env(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # re-running is what is tested here; the widgets-during-a-long-cell sleep is not
    nb = without_the_long_sleep(nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4))
    client = NotebookClient(nb, timeout=90, startup_timeout=60, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        for run in ("first", "again", "after restart"):
            if run == "after restart":
                run_sync(client.km.restart_kernel)(now=True)  # the async manager of nbclient
                run_sync(client.kc.wait_for_ready)(timeout=60)
            for cell in nb.cells:
                cell.outputs = []
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)  # raises CellExecutionError on an error
            assert not _problems(nb), (run, _problems(nb))
