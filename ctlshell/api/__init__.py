"""The blocking facade: ``get``, ``put``, ``monitor``, ``info``, ``status``, ``host``.

Magics, widgets and scripts call these. Each verb parses its address, then runs
one coroutine of the channel cache on the runtime loop with a timeout. The session
(runtime, store, cache, servers) is created on first use and closed at exit.
"""

from typing import Any

from ._client import Command, command, get, info, monitor, put, status
from ._describe import ChannelInfo, describe, known_choices, known_names
from ._gateway import gateway, gateways, stop_gateways
from ._many import Results, close_all, get_many, info_many, monitor_many, put_many
from ._hosting import host, hosted, journal, restrict_writes, unhost
from ._sessions import Session, before_shutdown, configure, session, shutdown
from ._stop import Stopper, find_stop, set_stop, stop

__all__ = [
    "ChannelInfo", "Command", "Results", "Session", "Stopper", "close_all", "command", "configure", "describe",
    "find_stop", "gateway", "gateways", "get", "get_many", "host", "hosted", "info", "info_many", "journal",
    "known_choices", "known_names", "monitor", "monitor_many", "put", "put_many", "restrict_writes", "session",
    "set_stop", "shutdown", "before_shutdown", "status", "stop", "stop_gateways", "unhost",
]


def __getattr__(name: str) -> Any:
    if name == "_session":  # the current session or None, without creating one
        from . import _sessions

        return _sessions._session
    raise AttributeError(name)
