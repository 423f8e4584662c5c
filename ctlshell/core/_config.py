"""Session configuration as data: :class:`Config`.

The environment only supplies defaults (:meth:`Config.from_env`); code passes a
``Config`` around and never reads ``os.environ`` behind the user's back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ._address import SCHEMES
from ._errors import ValidationError

__all__ = ["Config"]


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(f"{key}={raw!r} is not a number") from None


_YES, _NO = ("1", "yes", "y", "true", "on"), ("0", "no", "n", "false", "off")


def _port(env: Mapping[str, str], keys: tuple[str, ...], default: int) -> int:
    for key in keys:
        raw = env.get(key)
        if raw:
            if not raw.strip().isdigit():
                raise ValidationError(f"{key}={raw!r} is not a port number")
            return int(raw)
    return default


@dataclass(frozen=True)
class Config:
    """How a ctlshell session behaves.

    Attributes
    ----------
    default_scheme : str
        Scheme of a bare name (``CTLSHELL_DEFAULT_SCHEME``, default ``ca``).
    timeout : float
        Default timeout of blocking verbs, seconds (``CTLSHELL_TIMEOUT``, 5).
    sweep_period : float
        Seconds between channel-cache sweeps (``CTLSHELL_SWEEP_PERIOD``, 30).
    server_interfaces : tuple of str
        Where hosted servers listen (``EPICS_CAS_INTF_ADDR_LIST``, default loopback only).
    ca_server_port : int
        UDP search / TCP port of the hosted CA server (``EPICS_CA_SERVER_PORT``, 5064).
    state_file : str
        SQLite file for the write journal and persisted daemon items
        (``CTLSHELL_STATE_FILE``; empty: kept in memory, lost at exit).
    serve_pva : bool
        Whether hosted PVs are also served on PV Access (``CTLSHELL_SERVE_PVA``, yes).
    pva_server_port, pva_broadcast_port : int
        TCP and UDP search ports of the hosted PVA server (``EPICS_PVAS_SERVER_PORT`` /
        ``EPICS_PVAS_BROADCAST_PORT``, else the ``EPICS_PVA_*`` ones; 5075 and 5076).
    """

    default_scheme: str = "ca"
    timeout: float = 5.0
    sweep_period: float = 30.0
    server_interfaces: tuple[str, ...] = ("127.0.0.1",)
    ca_server_port: int = 5064
    state_file: str = ""
    serve_pva: bool = True
    pva_server_port: int = 5075
    pva_broadcast_port: int = 5076

    def __post_init__(self) -> None:
        if isinstance(self.server_interfaces, str):
            object.__setattr__(self, "server_interfaces", tuple(self.server_interfaces.split()))
        try:
            object.__setattr__(self, "timeout", float(self.timeout))
            object.__setattr__(self, "sweep_period", float(self.sweep_period))
            object.__setattr__(self, "ca_server_port", int(self.ca_server_port))
            object.__setattr__(self, "pva_server_port", int(self.pva_server_port))
            object.__setattr__(self, "pva_broadcast_port", int(self.pva_broadcast_port))
            object.__setattr__(self, "server_interfaces", tuple(str(i) for i in self.server_interfaces))
            object.__setattr__(self, "state_file", str(self.state_file or ""))
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"bad setting: {exc}") from None
        if self.default_scheme not in SCHEMES:
            raise ValidationError(f"default_scheme must be one of {SCHEMES}, not {self.default_scheme!r}")
        if not self.timeout > 0:
            raise ValidationError(f"timeout must be positive, not {self.timeout!r}")
        if not self.sweep_period > 0:
            raise ValidationError(f"sweep_period must be positive, not {self.sweep_period!r}")
        for key in ("ca_server_port", "pva_server_port", "pva_broadcast_port"):
            if not 0 < getattr(self, key) < 65536:
                raise ValidationError(f"{key} must be 1..65535, not {getattr(self, key)!r}")
        if not isinstance(self.serve_pva, bool):
            raise ValidationError(f"serve_pva must be True or False, not {self.serve_pva!r}")
        if not self.server_interfaces:
            raise ValidationError("server_interfaces must name at least one interface")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        interfaces = tuple(env.get("EPICS_CAS_INTF_ADDR_LIST", "").split()) or ("127.0.0.1",)
        port = env.get("EPICS_CA_SERVER_PORT") or "5064"
        if not port.isdigit():
            raise ValidationError(f"EPICS_CA_SERVER_PORT={port!r} is not a port number")
        serve_pva = (env.get("CTLSHELL_SERVE_PVA") or "yes").strip().lower()
        if serve_pva not in _YES + _NO:
            raise ValidationError(f"CTLSHELL_SERVE_PVA={serve_pva!r}: say yes or no")
        return cls(
            default_scheme=env.get("CTLSHELL_DEFAULT_SCHEME", "ca") or "ca",
            timeout=_float(env, "CTLSHELL_TIMEOUT", 5.0),
            sweep_period=_float(env, "CTLSHELL_SWEEP_PERIOD", 30.0),
            server_interfaces=interfaces,
            ca_server_port=int(port),
            state_file=env.get("CTLSHELL_STATE_FILE", ""),
            serve_pva=serve_pva in _YES,
            pva_server_port=_port(env, ("EPICS_PVAS_SERVER_PORT", "EPICS_PVA_SERVER_PORT"), 5075),
            pva_broadcast_port=_port(env, ("EPICS_PVAS_BROADCAST_PORT", "EPICS_PVA_BROADCAST_PORT"), 5076),
        )

    def replace(self, **changes: Any) -> Config:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValidationError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
        return replace(self, **changes)
