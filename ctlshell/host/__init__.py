"""Serving from this process: the CA server (caproto), the PVA server (p4p) and the
hosted-PV handle.

Devices and daemons land here in later issues. Imports core only.
"""

from ._handle import HostedPV

__all__ = ["CaServer", "HostedPV", "PvaServer"]


def __getattr__(name: str) -> object:  # caproto is imported only when a server starts
    if name == "CaServer":
        from ._ca_server import CaServer

        return CaServer
    if name == "PvaServer":  # p4p likewise
        from ._pva_server import PvaServer

        return PvaServer
    raise AttributeError(name)
