"""Acceptance 6 of issue 21: ``python -m build`` gives an sdist and a wheel; the wheel
installs into a fresh venv, where ``ctlshell -c "%pv get ..."`` reads a PV this test
hosts (loopback), and the profiles, examples and notebooks are in the installed package.

How the fresh venv gets its dependencies without minutes of downloads: ``python -m venv``
(no pip, no system site-packages), and in its site-packages one ``.pth`` file that
``site.addsitedir``\\s a directory of symlinks to every entry of this test venv's
site-packages *except* ctlshell's own: its ``ctlshell-*.dist-info``, the editable
install's ``__editable__.ctlshell-*.pth`` and its finder module. So the dependencies
are importable (their own ``.pth`` files processed), but nothing of the repository's
ctlshell is: no editable finder, no metadata that would tell pip ctlshell is installed.
Then this venv's pip, pointed at the fresh interpreter (``pip --python``), installs the
wheel with ``--no-index`` and *with* dependency resolution: a dependency the wheel
declares that is not there fails the install. The test asserts ctlshell is imported
from the fresh venv's site-packages, that no editable finder is on ``sys.meta_path``
and that the repository is not on ``sys.path``. The source is copied (symlinks kept)
into a temporary directory and built there with ``--no-isolation`` (no setuptools
download), so nothing is written into the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from ctlshell.testing import free_port, loopback_env

from ..conftest import HOST_PORT

ROOT = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache",
                              ".ruff_cache", ".pytest_cache", ".cache", "tests", "bench", "docs")
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
PACKAGE_DATA = ["profiles/default/ipython_config.py", "profiles/default/startup/00-verbs.py",
                "profiles/demo/ipython_config.py", "profiles/demo/startup/10-demo-beamline.py",
                "examples/oven.py", "examples/motor.py", "examples/group.py", "notebooks/README.md",
                *(f"notebooks/{n}" for n in NOTEBOOKS)]


def run(args: list[str], timeout: float = 240, **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def deps_without_ctlshell(where: Path) -> Path:
    """A site directory holding this venv's installed packages but none of ctlshell's own files."""
    site = Path(sysconfig.get_paths()["purelib"])
    where.mkdir()
    for entry in site.iterdir():
        name = entry.name.lower()
        if name.startswith(("ctlshell", "__editable__.ctlshell", "__editable___ctlshell")):
            continue
        (where / entry.name).symlink_to(entry)
    return where


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(sdist, wheel) built from a copy of the source tree."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=SKIP)
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp / "dist"), str(src)], cwd=tmp,
        env=clean_env())
    (sdist,) = (tmp / "dist").glob("ctlshell-*.tar.gz")
    (wheel,) = (tmp / "dist").glob("ctlshell-*-py3-none-any.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def venv(built, tmp_path_factory):
    """A fresh venv with the wheel installed (dependencies resolved against the test venv's)."""
    tmp = tmp_path_factory.mktemp("venv")
    deps = deps_without_ctlshell(tmp / "deps")
    env = clean_env()
    run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")], env=env, timeout=120)
    python = tmp / "venv" / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                  env=env, cwd=tmp).stdout.strip()
    Path(purelib, "_ctlshell_test_deps.pth").write_text(f"import site; site.addsitedir({str(deps)!r})\n")
    install = run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
                   "--disable-pip-version-check", str(built[1])], env=env, cwd=tmp)
    assert "Successfully installed ctlshell-0.1.0" in install.stdout, install.stdout
    return tmp / "venv", Path(purelib)


def test_the_sdist_and_the_wheel_carry_profiles_examples_and_notebooks(built):
    sdist, wheel = built
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = set(whl.namelist())
    for rel in PACKAGE_DATA:
        assert f"ctlshell/{rel}" in members and members[f"ctlshell/{rel}"].isfile(), f"sdist lacks ctlshell/{rel}"
        assert f"ctlshell/{rel}" in in_wheel, f"wheel lacks ctlshell/{rel}"
    assert "pyproject.toml" in members and "README.md" in members
    # only the profile's own files: no IPython state, no byte code
    assert not [n for n in in_wheel if "__pycache__" in n or n.endswith((".sqlite", ".pyc"))]


def test_the_installed_wheel_is_what_runs_and_has_its_data(venv):
    root, purelib = venv
    code = "\n".join([
        "import sys, ctlshell, ctlshell.examples.oven, ctlshell.examples.motor",
        "from ctlshell import profiles",
        "from pathlib import Path",
        "print('FILE', ctlshell.__file__)",
        "print('DEMO', profiles.find('demo').path)",
        "print('NAMES', profiles.names())",
        "nb = Path(ctlshell.__file__).parent / 'notebooks'",
        "print('NOTEBOOKS', sorted(p.name for p in nb.glob('*.ipynb')))",
        # setuptools' editable finder is a class on sys.meta_path, in module __editable___ctlshell_..._finder
        "print('EDITABLE', [repr(f) for f in sys.meta_path if 'editable' in str(getattr(f, '__module__', '')).lower()])",
        f"print('REPO', any(Path(p or '.').resolve() == Path({str(ROOT)!r}) for p in sys.path))",
    ])
    out = run([str(root / "bin" / "python"), "-c", code], env=clean_env(), cwd=root).stdout
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    assert Path(lines["FILE"]).parent == purelib / "ctlshell", lines["FILE"]
    assert Path(lines["DEMO"]) == purelib / "ctlshell" / "profiles" / "demo"
    assert lines["NAMES"] == "['default', 'demo']"
    assert lines["NOTEBOOKS"] == repr(NOTEBOOKS)
    assert lines["EDITABLE"] == "[]" and lines["REPO"] == "False"


def test_ctlshell_from_the_wheel_reads_a_hosted_pv_and_runs_the_shipped_demo_profile(venv, hosted, prefix, tmp_path):
    root, _ = venv
    hosted("GAP", 12.25, units="mm", precision=2)
    env = clean_env(**loopback_env(ca_search_ports=[HOST_PORT]), IPYTHONDIR=str(tmp_path / "ipython"))
    proc = run([str(root / "bin" / "ctlshell"), "-c", f"%pv get ca://{prefix}GAP"], env=env, cwd=tmp_path,
               timeout=120)
    assert f"ca://{prefix}GAP  12.25 mm  ok" in proc.stdout, proc.stdout + proc.stderr
    port = free_port()  # the demo hosts its beamline in the shell's process, on a port of its own
    env = clean_env(**loopback_env(ca_server_port=port, ca_search_ports=[port]), IPYTHONDIR=str(tmp_path / "ipython"))
    proc = run([str(root / "bin" / "ctlshell"), "--profile", "demo", "-c", "%pv get DEMO:SAMPLE:TEMP"], env=env,
               cwd=tmp_path, timeout=120)
    assert "ca://DEMO:SAMPLE:TEMP  295.00 K  ok" in proc.stdout, proc.stdout + proc.stderr
