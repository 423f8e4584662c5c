"""Serving from this process: the CA server (caproto), the PVA server (p4p),
hosted-PV handles, devices, daemons and their items, caproto groups, the state
file (journal and persistence).

Imports core only; caproto and p4p are imported when a server starts or a group is hosted.
"""

import sys
from typing import TYPE_CHECKING

from ._buffer import CircularBuffer
from ._catalog import ItemSpec, load_catalog
from ._daemon import Daemon
from ._device import Device, DevicePV, WriteRequest
from ._handle import HostedPV
from ._item import Item
from ._poller import Poller
from ._spec import PVSpec
from ._state import JournalEntry, StateFile
from ._target import make as make_hostable

__all__ = [
    "CaServer", "CircularBuffer", "Daemon", "Device", "DevicePV", "HostedGroup", "HostedPV", "Item",
    "ItemSpec", "JournalEntry", "PVSpec", "Poller", "StateFile", "WriteRequest", "is_pvgroup", "load_catalog",
    "make_hostable",
]

if TYPE_CHECKING:  # the lazy names of __getattr__, for the type checker
    from ._ca_server import CaServer
    from ._groups import HostedGroup
    from ._pva_server import PvaServer as PvaServer  # not in __all__


def __getattr__(name: str) -> object:  # caproto is imported only when a server starts
    if name == "CaServer":
        from ._ca_server import CaServer

        return CaServer
    if name == "HostedGroup":
        from ._groups import HostedGroup

        return HostedGroup
    if name == "PvaServer":  # p4p likewise
        from ._pva_server import PvaServer

        return PvaServer
    raise AttributeError(name)


def is_pvgroup(obj: object) -> bool:
    """True for a caproto PVGroup instance (without importing caproto if unused)."""
    module = sys.modules.get("caproto.server.server")
    return module is not None and isinstance(obj, module.PVGroup)
