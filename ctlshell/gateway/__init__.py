"""Running a p4p PV Access gateway (``p4p.gw``) from ctlshell.

:class:`GatewayConfig` is the configuration as data (it writes p4p.gw's JSON);
:class:`Gateway` runs the real gateway in a process of its own, with its status PVs.
ctlshell's ``pva://`` client works through it unchanged. Imports core only.
"""

from ._config import GatewayConfig
from ._process import Gateway, GatewayError

__all__ = ["Gateway", "GatewayConfig", "GatewayError"]
