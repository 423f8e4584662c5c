"""Running the example notebooks in fresh kernels that stay on loopback and on ports
of their own (never the test process's hosted server port), with Jupyter, IPython
and matplotlib directories in a temporary place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ctlshell.testing import free_port, loopback_env

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def kernel_env(tmp: Path) -> tuple[dict[str, str], int]:
    """The environment of a notebook's kernel, and its CA server port (for pyepics)."""
    ca = free_port()
    pva = free_port(avoid=[ca, ca + 1])
    env = loopback_env(ca_server_port=ca, ca_search_ports=[ca], pva_server_port=pva, pva_search_ports=[pva + 1])
    tango = free_port(avoid=[ca, ca + 1, pva, pva + 1])
    env.update({
        "TANGO_HOST": f"127.0.0.1:{tango}",
        "JUPYTER_CONFIG_DIR": str(tmp / "jupyter-config"), "JUPYTER_DATA_DIR": str(tmp / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter-runtime"), "IPYTHONDIR": str(tmp / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1", "MPLCONFIGDIR": str(tmp / "mpl"), "XDG_CACHE_HOME": str(tmp / "cache"),
        "XDG_CONFIG_HOME": str(tmp / "config"), "XDG_DATA_HOME": str(tmp / "data"),
    })
    return env, ca


#: the quick start's cell that shows widgets moving while a cell runs: only the
#: browser test watches that; elsewhere its 15 s are waiting time only
LONG_SLEEP, SHORT_SLEEP = "time.sleep(15)", "time.sleep(0.5)"


def without_the_long_sleep(nb: Any) -> Any:
    """``nb`` with the quick start's 15 s sleep cut to 0.5 s (the cell still runs and
    prints SLEEP_DONE); AssertionError when the notebook no longer has that cell."""
    cells = [c for c in nb.cells if c.cell_type == "code" and LONG_SLEEP in c.source]
    assert len(cells) == 1, f"the quick start's {LONG_SLEEP} cell is gone: update tests/notebooks/kernels.py"
    cells[0].source = cells[0].source.replace(LONG_SLEEP, SHORT_SLEEP)
    return nb
