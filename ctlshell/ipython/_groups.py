"""``%pv host --group module:Class``: import a Device, Daemon or caproto PVGroup class
and make one with a prefix.

(The same rules as ``ctlshell serve``; ``serve`` is a sibling layer the shell may not
import, so the few lines live here too.)
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from ..core import ValidationError
from ..host import Daemon, Device

__all__ = ["make"]


def make(spec: str, prefix: str) -> Any:
    """An instance of the class named ``"package.module:Class"`` with PV prefix ``prefix``.

    Raises
    ------
    ValidationError
        Malformed spec, module not importable, no such class, or not a hostable class.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValidationError(f"{spec!r}: expected module:Class, e.g. ctlshell.examples.motor:Motor")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValidationError(f"cannot import {module_name!r}: {exc}") from None
    cls: Any = module
    for part in attr.split("."):
        cls = getattr(cls, part, None)
        if cls is None:
            raise ValidationError(f"{module_name} has no {attr!r}")
    if not isinstance(cls, type):
        raise ValidationError(f"{spec} is a {type(cls).__name__}, not a class")
    if issubclass(cls, (Daemon, Device)):
        return cls(prefix)
    caproto = sys.modules.get("caproto.server.server")
    if caproto is not None and issubclass(cls, caproto.PVGroup):
        return cls(prefix=prefix)
    raise ValidationError(f"{cls.__name__} is not a ctlshell Daemon or Device, nor a caproto PVGroup")
