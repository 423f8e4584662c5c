"""NeXus recording: NXSDataWriter's XML configuration, the writer core (h5py), data
sources, the ``NexusWriter`` Tango device and its client.

The core (:mod:`._xml`, :mod:`._config`, :mod:`._types`, :mod:`._sources`, :mod:`._h5`,
:mod:`._writer`) imports neither Tango nor :mod:`ctlshell.api` (an import-linter
contract); the readers of TANGO, DB and CHANNEL sources, the device and the client
live in modules of their own and are imported on use.
"""

from ._config import Config, parse_config
from ._sources import Sample, SourceReader
from ._writer import FileWriter, WriterStateError, resolve_path
from ._xml import XMLConfigError

__all__ = ["Config", "FileWriter", "Sample", "SourceReader", "WriterStateError", "XMLConfigError", "parse_config",
           "resolve_path"]
