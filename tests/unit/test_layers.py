"""Acceptance 6: the import layering of DESIGN.md, and optional libraries failing late."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "BROKEN" not in proc.stdout and "KEPT" in proc.stdout


BLOCK = textwrap.dedent("""
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in ('p4p', 'tango', 'PyTango'):
                raise ImportError(f'No module named {name!r} (blocked by the test)', name=name)
            return None
    sys.meta_path.insert(0, Block())
""")


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


def test_import_ctlshell_works_without_p4p_and_pva_says_how_to_install():
    proc = run("""
        import ctlshell
        assert 'p4p' not in sys.modules and 'tango' not in sys.modules
        try:
            ctlshell.get('pva://SOME:PV', timeout=1)
        except ctlshell.CtlshellError as exc:
            assert isinstance(exc, ImportError)
            print('ERR', exc)
        ctlshell.shutdown()
    """)
    assert proc.returncode == 0, proc.stderr
    assert "ERR pva:// needs a library that is not installed" in proc.stdout
    assert "pip install 'ctlshell[pva]'" in proc.stdout


def test_import_ctlshell_loads_no_protocol_library():
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, ctlshell; print(sorted(m for m in "
         "('caproto','aioca','epicscorelibs','p4p','tango','IPython','ipywidgets','h5py','epics') if m in sys.modules))"],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_testing_contract_names_every_production_module():
    """A new top-level module is covered by the contract that keeps ctlshell.testing out of the product."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("forbidden_modules") == ["ctlshell.testing"]]
    package = ROOT / "ctlshell"
    top = {f"ctlshell.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    top |= {f"ctlshell.{p.parent.name}" for p in package.glob("*/__init__.py")}
    missing = top - {"ctlshell.testing"} - set(contract["source_modules"])
    assert not missing, f"add {sorted(missing)} to the ctlshell.testing contract in pyproject.toml"
    # and the root package itself: it may not import the helpers either
    assert "testing" not in (package / "__init__.py").read_text()
