"""ctlshell: an interactive control shell for EPICS CA, PV Access and Tango.

The small public API::

    import ctlshell
    pv = ctlshell.host("DEMO:TEMP", 21.5, units="degC", limits=(0, 100), writable=True)
    ctlshell.get("ca://DEMO:TEMP")
    sub = ctlshell.monitor("ca://DEMO:TEMP", print)

Devices, mKTL-style daemons and caproto groups are hosted the same way
(``ctlshell.host(obj)``); their base classes are in :mod:`ctlshell.host`.

Importing ctlshell imports no protocol library; each is loaded when its scheme is used.
"""

from .api import (
    command,
    configure,
    gateway,
    get,
    host,
    hosted,
    info,
    journal,
    monitor,
    put,
    restrict_writes,
    shutdown,
    status,
    unhost,
)
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


def load_ipython_extension(shell: object) -> None:
    """``%load_ext ctlshell``: the ``%pv`` magic, completion and displays (see :mod:`ctlshell.ipython`)."""
    from .ipython import load_ipython_extension as load

    load(shell)


def unload_ipython_extension(shell: object) -> None:
    """``%unload_ext ctlshell``: remove them and stop the ctlshell runtime."""
    from .ipython import unload_ipython_extension as unload

    unload(shell)


__all__ = [
    "ChannelTimeoutError", "CtlshellError", "DeviceError", "DisconnectedError", "KeepLast", "KeepLatest",
    "Reading", "Severity", "ValidationError", "command", "configure", "gateway", "get", "host", "hosted", "info",
    "journal", "load_ipython_extension", "monitor", "put", "restrict_writes", "shutdown", "status", "unhost",
    "unload_ipython_extension",
]
