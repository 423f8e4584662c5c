"""Serving from this process: the CA server (caproto) and the hosted-PV handle.

The PVA server, devices and daemons land here in later issues. Imports core only.
"""

from ._handle import HostedPV

__all__ = ["CaServer", "HostedPV"]


def __getattr__(name: str) -> object:  # caproto is imported only when a server starts
    if name == "CaServer":
        from ._ca_server import CaServer

        return CaServer
    raise AttributeError(name)
