"""From ``"package.module:Class"`` to a hostable object: used by ``ctlshell serve`` and
``%pv host --group``. Knows the hostable kinds (Daemon, Device, caproto PVGroup)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from ..core import ValidationError
from ._daemon import Daemon
from ._device import Device

__all__ = ["build", "load_target", "make"]


def load_target(spec: str) -> type:
    """The class named by ``"package.module:Class"``.

    Raises
    ------
    ValidationError
        Malformed, not importable, or not a class.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValidationError(f"{spec!r}: expected module:Class, e.g. ctlshell.examples.motor:Motor")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValidationError(f"cannot import {module_name!r}: {exc}") from None
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise ValidationError(f"{module_name} has no {attr!r}")
    if not isinstance(obj, type):
        raise ValidationError(f"{spec} is a {type(obj).__name__}, not a class")
    return obj


def build(cls: type[Any], prefix: str, catalog: str | None = None) -> Any:
    """One instance of a Daemon, Device or caproto PVGroup subclass with PV prefix ``prefix``."""
    if issubclass(cls, Daemon):
        return cls(prefix, catalog) if catalog else cls(prefix)
    if catalog:
        raise ValidationError("a catalog is only for Daemon classes")
    if issubclass(cls, Device):
        return cls(prefix)
    module = sys.modules.get("caproto.server.server")
    if module is not None and issubclass(cls, module.PVGroup):
        return cls(prefix=prefix)
    raise ValidationError(f"{cls.__name__} is not a ctlshell Daemon or Device, nor a caproto PVGroup")


def make(spec: str, prefix: str, catalog: str | None = None) -> Any:
    """``build(load_target(spec), prefix, catalog)``."""
    return build(load_target(spec), prefix, catalog)
