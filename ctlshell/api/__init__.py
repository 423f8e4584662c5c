"""The blocking facade: ``get``, ``put``, ``monitor``, ``info``, ``status``, ``host``.

Magics, widgets and scripts call these. Each verb parses its address, then runs
one coroutine of the channel cache on the runtime loop with a timeout. The session
(runtime, store, cache, servers) is created on first use and closed at exit.
"""

from typing import Any

from ._client import Command, command, get, info, monitor, put, status
from ._describe import ChannelInfo, describe, known_choices, known_names
from ._gateway import gateway, gateways, stop_gateways
from ._hosting import host, hosted, journal, restrict_writes, unhost
from ._sessions import Session, configure, session, shutdown
from ._stop import Stopper, find_stop, set_stop, stop

__all__ = [
    "ChannelInfo", "Command", "Session", "Stopper", "command", "configure", "describe", "gateway", "gateways", "get", "host",
    "find_stop", "hosted", "info", "journal", "known_choices", "known_names", "monitor", "put", "restrict_writes", "session",
    "set_stop", "shutdown", "status", "stop", "stop_gateways", "unhost",
]


def __getattr__(name: str) -> Any:
    if name == "_session":  # the current session or None, without creating one
        from . import _sessions

        return _sessions._session
    raise AttributeError(name)
