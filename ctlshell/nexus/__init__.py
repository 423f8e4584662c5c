"""NeXus recording: NXSDataWriter's XML configuration, the writer core (h5py), data
sources, the ``NexusWriter`` Tango device and its client.

The core (:mod:`._xml`, :mod:`._config`, :mod:`._types`, :mod:`._sources`, :mod:`._h5`,
:mod:`._writer`) imports neither Tango nor :mod:`ctlshell.api` (an import-linter
contract); the readers of TANGO, DB and CHANNEL sources, the device and the client
live in modules of their own and are imported on use.
"""

from typing import Any

from ._config import Config, parse_config
from ._repair import clear_write_flags as recover
from ._sources import Sample, SourceReader
from ._writer import FileWriter, WriterStateError, resolve_path
from ._xml import XMLConfigError

__all__ = ["Config", "FileWriter", "RecordMonitor", "Sample", "SourceReader", "WriterClient", "WriterProcess",
           "WriterStateError", "XMLConfigError", "connect", "parse_config", "recover", "resolve_path", "start_writer"]

_LAZY = {"WriterClient": "._client", "WriterProcess": "._process", "RecordMonitor": "._monitor"}


def __getattr__(name: str) -> Any:
    # pytango and ctlshell.api are imported only when the client side is used
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def connect(device: str, timeout: float = 10.0) -> Any:
    """A :class:`WriterClient` of a writer device (ctlshell's NexusWriter or an NXSDataWriter).

    Parameters
    ----------
    device : str
        e.g. ``tango://127.0.0.1:PORT/ctlshell/nexus/writer#dbase=no`` or a database name.
    """
    from ._client import WriterClient

    return WriterClient(device, timeout)


def start_writer(data_dir: str, env: Any = None) -> Any:
    """Start ``ctlshell nxwriter`` in a child process writing under ``data_dir``;
    returns the running :class:`WriterProcess` (``.address``, ``.stop()``)."""
    from ._process import WriterProcess

    return WriterProcess(data_dir, env).start()
