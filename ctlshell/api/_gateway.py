"""``gateway()``: a p4p PV Access gateway in a process of its own, stopped with the session."""

from __future__ import annotations

from typing import Any

from ..core import ValidationError
from ..gateway import Gateway, GatewayConfig
from ._sessions import session

__all__ = ["gateway", "gateways", "stop_gateways"]


def gateway(config: GatewayConfig | str | None = None, *, status_period: float = 5.0,
            timeout: float = 20.0, **settings: Any) -> Gateway:
    """Start a p4p PV Access gateway (``p4p.gw``) in a process of its own.

    Parameters
    ----------
    config : GatewayConfig or str, optional
        Settings, or the path of a p4p.gw JSON file written for a site.
    status_period : float
        Seconds between updates of the gateway's status PVs.
    timeout : float
        Seconds to wait for it to serve.
    **settings
        :class:`ctlshell.gateway.GatewayConfig` fields (``upstream``, ``server_port``,
        ``broadcast_port``, ``status_prefix``, ``read_only``, ...), without ``config``.

    Returns
    -------
    Gateway
        ``.stop()``, ``.status_names()``, ``.log()``; stopped at ``shutdown()``.

    Raises
    ------
    ValidationError
        A bad setting; nothing was started.
    GatewayError
        The gateway process did not start (its log is in the message).
    """
    if config is None:
        config = GatewayConfig().replace(**settings)
    elif settings:
        if not isinstance(config, GatewayConfig):
            raise ValidationError("give either a configuration file or settings, not both")
        config = config.replace(**settings)
    gw = Gateway(config, status_period=status_period)
    gw.start(timeout)
    session().gateways.append(gw)
    return gw


def gateways() -> list[Gateway]:
    """The gateways this session started and has not stopped, oldest first."""
    return [gw for gw in session().gateways if gw.running]


def stop_gateways(port: int | None = None) -> int:
    """Stop this session's gateways (only the one serving on ``port``, when given).

    Returns
    -------
    int
        How many were stopped.
    """
    s = session()
    chosen = [gw for gw in s.gateways if port is None or gw.server_port == port]
    for gw in chosen:
        gw.close()
        s.gateways.remove(gw)
    return len(chosen)

