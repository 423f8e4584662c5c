"""ctlshell/backends/_dso.py: CA and PVA load without setuptools, and setuptools_dso stays whole."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_ca_and_pva_backends_load_without_setuptools() -> None:
    out = run("""
        import sys
        import ctlshell.backends.ca, ctlshell.backends.pva
        import epicscorelibs.path, pvxslibs.path, p4p
        print('setuptools' in sys.modules, 'pkg_resources' in sys.modules)
    """)
    assert out == "False False"


def test_the_build_time_names_still_import_the_whole_package() -> None:
    out = run("""
        import sys
        import ctlshell.backends.ca
        from setuptools_dso import DSO, setup, dylink_prepare_dso
        import setuptools_dso.runtime as rt
        print(DSO.__module__, callable(setup), dylink_prepare_dso is rt.dylink_prepare_dso, 'setuptools' in sys.modules)
    """)
    assert out == "setuptools_dso.dsocmd True True True"


def test_nothing_changes_when_setuptools_dso_was_imported_first() -> None:
    out = run("""
        import setuptools_dso
        from ctlshell.backends import _dso
        import sys
        print(_dso.install(), sys.modules['setuptools_dso'] is setuptools_dso, hasattr(setuptools_dso, 'DSO'))
    """)
    assert out == "False True True"
