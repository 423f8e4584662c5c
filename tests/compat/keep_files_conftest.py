"""Copied into the suite's folder as ``conftest.py`` by ``run_suite.py``: keeps a copy of
every HDF5 file a test of nxswriter's suite removes at its end (the suite's ``finally:
os.remove(fname)``), under ``$CTLSHELL_COMPAT_KEEP/<Class.test>/``, so that the files the
two writers wrote for the same configuration and records can be compared afterwards.
Changes nothing the suite checks: the file is copied, then removed as the test asked."""

import os
import shutil

import pytest

_remove = os.remove
_current = {"test": None}


@pytest.fixture(autouse=True)
def _name_the_test(request):
    _current["test"] = f"{request.cls.__name__ if request.cls else ''}.{request.node.name}"
    yield
    _current["test"] = None


def _keeping_remove(path, *args, **kwargs):
    keep = os.environ.get("CTLSHELL_COMPAT_KEEP")
    if keep and _current["test"] and str(path).endswith((".h5", ".nxs")) and os.path.isfile(path):
        folder = os.path.join(keep, _current["test"])
        os.makedirs(folder, exist_ok=True)
        base, n = os.path.basename(path), 1
        target = os.path.join(folder, base)
        while os.path.exists(target):  # one test may write the same name twice
            n += 1
            target = os.path.join(folder, f"{n}-{base}")
        shutil.copy2(path, target)
    return _remove(path, *args, **kwargs)


os.remove = _keeping_remove
