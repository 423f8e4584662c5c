"""ctlshell: an interactive control shell for EPICS CA, PV Access and Tango.

The small public API::

    import ctlshell
    pv = ctlshell.host("DEMO:TEMP", 21.5, units="degC", limits=(0, 100), writable=True)
    ctlshell.get("ca://DEMO:TEMP")
    sub = ctlshell.monitor("ca://DEMO:TEMP", print)

Devices, mKTL-style daemons and caproto groups are hosted the same way
(``ctlshell.host(obj)``); their base classes are in :mod:`ctlshell.host`.

Devices are driven through Karabo-style proxies: ``dev = ctlshell.connect_device(
"local://OVEN:")`` (see :mod:`ctlshell.proxies`; Karabo spellings in :mod:`ctlshell.karabo`).

Importing ctlshell imports no protocol library (and not pint); each is loaded when used.
"""

from .api import (
    command,
    configure,
    gateway,
    get,
    get_many,
    host,
    hosted,
    info,
    info_many,
    journal,
    monitor,
    monitor_many,
    put,
    put_many,
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

#: Karabo-style device proxies (:mod:`ctlshell.proxies`), imported on first use: they
#: need pint, which would add about 0.3 s to ``import ctlshell``.
_PROXY_VERBS = ("connect_device", "get_device", "set_wait")


def __getattr__(name: str) -> object:
    if name in _PROXY_VERBS:
        from . import proxies

        return getattr(proxies, name)
    raise AttributeError(f"module 'ctlshell' has no attribute {name!r}")


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
    "Reading", "Severity", "ValidationError", "command", "configure", "connect_device", "gateway", "get",
    "get_device", "get_many", "info_many", "monitor_many", "put_many", "host", "hosted", "info", "journal", "load_ipython_extension", "monitor", "put",
    "restrict_writes", "set_wait", "shutdown", "status", "unhost", "unload_ipython_extension",
]
