"""Load ``setuptools_dso.runtime`` without ``setuptools``: the one place that reaches inside it.

``epicscorelibs.path`` (imported by aioca and p4p before they load libca/pvxs)
needs only ``setuptools_dso.runtime`` (``dylink_prepare_dso``, ``find_dso``), but
importing it runs the package's ``__init__``, which imports ``setuptools`` and
``pkg_resources`` for its build-time commands: about 10 MiB of resident memory and a
third of a second in every session that touches CA or PVA, for nothing at run time.

:func:`install` registers the package ``setuptools_dso`` as a module whose
``__path__`` is the real package's (so ``setuptools_dso.runtime`` is the real
submodule, imported as usual) and whose ``__init__`` runs only when something asks
for a build-time name it defines (``setuptools_dso.setup``, ``DSO``...; the run-time
``dylink_prepare_dso`` and ``find_dso`` come from ``runtime`` without it): then the package is
exactly what a plain import gives. Nothing changes when it was imported already.
Importing this module installs it (the backends import it before aioca and p4p).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

__all__ = ["install"]

PACKAGE = "setuptools_dso"
#: The run-time names the package re-exports from its ``runtime`` submodule.
RUNTIME = ("dylink_prepare_dso", "find_dso")


def install() -> bool:
    """Make ``import setuptools_dso.runtime`` skip the package's build-time imports.

    Returns
    -------
    bool
        True when the lazy package was registered; False when ``setuptools_dso`` was
        imported already or is not installed (then nothing was changed).
    """
    if PACKAGE in sys.modules:
        return False
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return False
    package = importlib.util.module_from_spec(spec)  # __path__, __spec__, __file__ as imported
    loader = spec.loader

    def __getattr__(name: str) -> Any:  # PEP 562: only names not set yet come here
        if name.startswith("__"):
            raise AttributeError(name)
        if name in RUNTIME:  # pvxslibs.path: ``from setuptools_dso import dylink_prepare_dso``
            return getattr(importlib.import_module(f"{PACKAGE}.runtime"), name)
        _run_init(package, loader)
        return getattr(package, name)

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[PACKAGE] = package
    return True


def _run_init(package: ModuleType, loader: Any) -> None:
    """The real ``__init__`` of the package, once, into the registered module."""
    if package.__dict__.pop("__getattr__", None) is not None:
        loader.exec_module(package)


install()
