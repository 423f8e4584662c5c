"""Issue 14, acceptance 2: with no EPICS variable set at all, ctlshell finds the PVs
served on its own host.

Each check runs inside a network namespace of its own (root: ``unshare --net``) with
``lo`` up and a veth pair whose two ends both stay inside, addressed from 192.0.2.0/24
with a broadcast address: libca's and pvxs's automatic address lists hold
192.0.2.255 as on a workstation, nothing can leave the machine, and the host's
interfaces are never visible. The processes inside get the test process's
environment minus every ``EPICS_*`` variable; the standard ports 5064/5075 are the
namespace's own, so suites running side by side do not meet.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ctlshell.testing import NetNamespace, NsProcess, netns_available, no_epics_env

pytestmark = pytest.mark.skipif(bool(netns_available()), reason=netns_available() or "")

HERE = Path(__file__).resolve().parent
NOTEBOOKS = HERE.parents[1] / "notebooks"
RUNNER = HERE / "netns_notebook.py"
CTLSHELL = str(Path(sys.executable).with_name("ctlshell"))


@pytest.fixture
def ns():
    with NetNamespace() as namespace:
        yield namespace


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No EPICS variable; Jupyter, IPython and matplotlib directories of the test's own."""
    return no_epics_env(
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"), JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"), IPYTHONDIR=str(tmp_path / "ipython"),
        JUPYTER_PLATFORM_DIRS="1", MPLCONFIGDIR=str(tmp_path / "mpl"), XDG_CACHE_HOME=str(tmp_path / "cache"),
        **extra)


def test_the_namespace_looks_like_a_workstation_and_has_no_epics_variable(ns, tmp_path):
    addresses = ns.run("ip", "-4", "-o", "addr").stdout
    assert "192.0.2.1/24 brd 192.0.2.255" in addresses and "127.0.0.1/8" in addresses
    assert "eth" not in addresses  # the host's interfaces are not here
    env = bare_env(tmp_path)
    assert not [k for k in env if k.startswith("EPICS_")]


def test_a_script_that_hosts_the_demo_reads_its_own_pvs(ns, tmp_path):
    script = ("import ctlshell, ctlshell.demo\n"
              "ctlshell.demo.start()\n"
              "print('CA', ctlshell.get('DEMO:MOTOR.RBV').value)\n"
              "print('PVA', ctlshell.get('pva://DEMO:MOTOR.RBV').value)\n"
              "ctlshell.put('DEMO:MOTOR', 0.5, wait=True)\n"
              "print('MOVED', ctlshell.get('DEMO:MOTOR.RBV').value)\n")
    done = ns.python("-c", script, env=bare_env(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line[:3] in ("CA ", "PVA", "MOV"))
    assert float(lines["CA"]) == float(lines["PVA"])
    assert abs(float(lines["MOVED"]) - 0.5) < 1e-6


def test_ctlshell_c_reads_a_pv_of_ctlshell_serve_on_the_same_host(ns, tmp_path):
    env = bare_env(tmp_path)
    serve = NsProcess(ns).start(CTLSHELL, "serve", "ctlshell.examples.oven:Oven", "--prefix", "OVEN:",
                                env=env, ready_text="ready")
    try:
        done = ns.run(CTLSHELL, "-c", "%pv get OVEN:SETPOINT", env=env, check=False, timeout=90)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "OVEN:SETPOINT" in done.stdout and "295" in done.stdout, done.stdout + done.stderr
        assert "Error" not in done.stdout + done.stderr
    finally:
        serve.close()


def run_cells(ns, tmp_path, kernel: str, notebook: str, *cells: str) -> dict:
    out = tmp_path / "out.json"
    done = ns.python(str(RUNNER), kernel, notebook, str(out), *cells, env=bare_env(
        tmp_path, JUPYTER_PATH=str(tmp_path / "share/jupyter")), timeout=420)
    assert done.returncode == 0 and out.exists(), done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


def test_the_ctlshell_kernel_with_the_demo_profile_reads_demo_motor(ns, tmp_path):
    import subprocess

    subprocess.run([CTLSHELL, "kernelspec", "--prefix", str(tmp_path)], check=True, capture_output=True, timeout=60)
    result = run_cells(ns, tmp_path, "ctlshell", "-", "%ctlshell_profile demo",
                       "%pv get DEMO:MOTOR", "print('value', get('DEMO:MOTOR').value)")
    assert not result["errors"], result
    assert "DEMO:MOTOR" in result["text"] and "value 0.0" in result["text"], result


def notebooks() -> list[str]:
    return sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def test_no_notebook_sets_epics_variables():
    for name in notebooks():
        text = (NOTEBOOKS / name).read_text()
        assert "EPICS_CA_ADDR_LIST" not in text and "EPICS_CA_AUTO_ADDR_LIST" not in text, name


@pytest.mark.parametrize("name", notebooks())
def test_every_notebook_runs_with_no_epics_variable(ns, tmp_path, name):
    import nbformat

    from ..notebooks.kernels import without_the_long_sleep

    path = NOTEBOOKS / name
    if name == "quickstart.ipynb":  # finding the PVs is tested here, not a 15 s sleep
        path = tmp_path / name
        nbformat.write(without_the_long_sleep(nbformat.read(NOTEBOOKS / name, as_version=4)), str(path))
    result = run_cells(ns, tmp_path, "python3", str(path))
    assert not result["errors"] and not result["failure"], result
