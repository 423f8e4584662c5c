"""The hosted CA server works with every caproto version ``pyproject.toml`` allows.

The project's venv has the highest supported caproto. This test builds a venv of its
own holding only the lowest one (cached under ``.cache/``, so built once), which
sees the project's venv for everything else, and runs the CA server's tests there:
the paced circuit and its caproto hooks, clients vanishing mid-flood, slow clients,
reads answered by a daemon, the update lane and its encoder (checked against caproto's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The lowest caproto ``pyproject.toml`` allows (keep the two in step).
LOWEST = "1.2.0"
#: The CA server's tests, run again on the lowest caproto.
CA_SERVER_TESTS = [
    "tests/integration/test_ca_disconnects.py",
    "tests/integration/test_host_ca.py",
    "tests/integration/test_slow_client.py",
    "tests/integration/test_daemon_reads.py",
    "tests/integration/test_ca_lane.py",
    "tests/unit/test_ca_wire.py",
]


def _venv_with(version: str) -> Path:
    """A venv holding caproto ``version`` ahead of this venv's packages (built once)."""
    venv = ROOT / ".cache" / f"caproto-{version}"
    python = venv / "bin" / "python"
    stamp = venv / "ready"
    if stamp.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    f"caproto=={version}"], check=True)
    # everything else (ctlshell itself, numpy, p4p, pyepics, pytest) from this venv,
    # after the venv's own caproto on sys.path
    (site / "zz_ctlshell_base.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    stamp.write_text(version)
    return python


@pytest.mark.timeout(900)
def test_lowest_supported_caproto_serves_as_the_highest():
    try:
        python = _venv_with(LOWEST)
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"could not build a venv with caproto {LOWEST}: {exc}")
    found = subprocess.run([str(python), "-c", "import caproto; print(caproto.__version__)"],
                           check=True, capture_output=True, text=True).stdout.strip()
    assert found == LOWEST, f"the venv imports caproto {found}, not {LOWEST}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    run = subprocess.run([str(python), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *CA_SERVER_TESTS],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"CA server tests on caproto {LOWEST}:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
