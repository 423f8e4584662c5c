"""NXSDataWriter's plug-in keys of a JSON record (``"decoders"``, ``"datasources"``),
accepted only when they name its built-in classes, which ctlshell implements itself.

NXSDataWriter imports whatever ``module.Class`` a record names. ctlshell never does:
a class path is compared as text with the built-in ones, and anything else is
refused with one sentence before any import could happen. Pure: no imports of the
named modules, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import ValidationError

__all__ = ["BUILTIN_DECODERS", "BUILTIN_SOURCES", "check_plugins"]

#: NXSDataWriter's built-in decoder classes -> the decoding ctlshell applies
BUILTIN_DECODERS: dict[str, str] = {
    "nxswriter.DecoderPool.UTF8decoder": "UTF8",
    "nxswriter.DecoderPool.UINT32decoder": "UINT32",
    "nxswriter.DecoderPool.VDEOdecoder": "VIDEO_IMAGE",
    "nxswriter.DecoderPool.DATAARRAYdecoder": "DATA_ARRAY",
}
#: NXSDataWriter's built-in datasource classes -> the ctlshell source kind that reads alike
BUILTIN_SOURCES: dict[str, str] = {
    "nxswriter.ClientSource.ClientSource": "CLIENT",
    "nxswriter.TangoSource.TangoSource": "TANGO",
    "nxswriter.DBaseSource.DBaseSource": "DB",
    "nxswriter.PyEvalSource.PyEvalSource": "PYEVAL",
}


def _check(what: str, key: str, value: Any, builtin: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError(f"{what}: \"{key}\" must be an object of name: \"module.Class\"")
    out = {}
    for name, path in value.items():
        if not isinstance(path, str) or path not in builtin:
            kind = key[:-1]
            raise ValidationError(f"{what}: {kind} {name!r} names {path!r}, not one of NXSDataWriter's built-in "
                                  f"{key} ({', '.join(sorted(builtin))}); ctlshell never imports code named in a "
                                  "record, so it is refused")
        out[str(name)] = builtin[path]
    return out


def check_plugins(obj: Mapping[str, Any], what: str) -> tuple[dict[str, str], dict[str, str]]:
    """The ``decoders`` and ``datasources`` of a record as name -> built-in kind.

    Raises
    ------
    ValidationError
        A class path that is not one of NXSDataWriter's built-in ones (never imported).
    """
    return (_check(what, "decoders", obj.get("decoders", {}), BUILTIN_DECODERS),
            _check(what, "datasources", obj.get("datasources", {}), BUILTIN_SOURCES))
