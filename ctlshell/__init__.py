"""ctlshell: an interactive control shell for EPICS CA, PV Access and Tango.

The small public API::

    import ctlshell
    pv = ctlshell.host("DEMO:TEMP", 21.5, units="degC", limits=(0, 100), writable=True)
    ctlshell.get("ca://DEMO:TEMP")
    sub = ctlshell.monitor("ca://DEMO:TEMP", print)

Importing ctlshell imports no protocol library; each is loaded when its scheme is used.
"""

from .api import command, configure, get, host, hosted, info, monitor, put, shutdown, status, unhost
from .core import (
    ChannelTimeoutError,
    CtlshellError,
    DeviceError,
    DisconnectedError,
    KeepLast,
    KeepLatest,
    Reading,
    Severity,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "ChannelTimeoutError", "CtlshellError", "DeviceError", "DisconnectedError", "KeepLast", "KeepLatest",
    "Reading", "Severity", "ValidationError", "command", "configure", "get", "host", "hosted", "info",
    "monitor", "put", "shutdown", "status", "unhost",
]
