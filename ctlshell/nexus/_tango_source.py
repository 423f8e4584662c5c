"""TANGO data sources read with pytango's ``DeviceProxy`` directly.

A module of its own so that, once ctlshell's Tango client backend is merged, this
reader can become ``ctlshell.get("tango://...")`` without touching the writer core.
``<device name=...>`` takes a device name (with ``hostname``/``port`` attributes, as
NXSDataWriter) or a full Tango address such as
``tango://127.0.0.1:PORT/dev/name#dbase=no`` for a device server without database.
"""

from __future__ import annotations

from typing import Any

from ..core import BackendUnavailableError
from ._config import Source
from ._sources import Sample

__all__ = ["TangoReader"]

#: Tango attribute quality -> severity (VALID, WARNING, ALARM, INVALID, CHANGING)
_SEVERITY = {"ATTR_VALID": 0, "ATTR_WARNING": 1, "ATTR_ALARM": 2, "ATTR_INVALID": 3, "ATTR_CHANGING": 0}


def device_address(params: dict[str, str]) -> str:
    """The pytango name of the device of a TANGO source."""
    name = params["name"]
    if "://" in name or not params.get("hostname"):
        return name
    return f"tango://{params['hostname']}:{params.get('port', '10000')}/{name}"


class TangoReader:
    """Reads Tango attributes; one proxy per device, kept until :meth:`close`."""

    def __init__(self, timeout: float = 3.0) -> None:
        self.timeout = timeout
        self._proxies: dict[str, Any] = {}

    def _proxy(self, source: Source) -> tuple[Any, Any, str]:
        try:
            import tango
        except ImportError as exc:
            raise BackendUnavailableError("TANGO sources need pytango: pip install pytango") from exc
        address = device_address(source.params)
        proxy = self._proxies.get(address)
        if proxy is None:
            proxy = tango.DeviceProxy(address)
            proxy.set_timeout_millis(int(self.timeout * 1000))
            self._proxies[address] = proxy
        return tango, proxy, address

    def units(self, source: Source) -> str | None:
        """The attribute's unit from its Tango configuration (None when it has none)."""
        tango, proxy, _ = self._proxy(source)
        unit = proxy.get_attribute_config(source.record).unit
        return unit if unit and unit != "No unit" else None

    def read(self, source: Source) -> Sample:
        tango, proxy, address = self._proxy(source)
        try:
            attr = proxy.read_attribute(source.record)
        except tango.DevFailed as exc:
            raise RuntimeError(f"{address}/{source.record}: {exc.args[0].desc.strip()}") from None
        return Sample(attr.value, attr.time.totime(), _SEVERITY.get(str(attr.quality), 3))

    def close(self) -> None:
        self._proxies.clear()
