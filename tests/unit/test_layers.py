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
