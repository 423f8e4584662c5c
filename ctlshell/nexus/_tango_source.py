"""TANGO data sources, read through ctlshell's ``tango://`` backend and channel cache.

``<device name=...>`` takes a device name (with ``hostname``/``port`` attributes, as
NXSDataWriter) or a full Tango address such as
``tango://127.0.0.1:PORT/dev/name#dbase=no`` for a device server without database.
The reading keeps the attribute's own timestamp and its quality as severity
(VALID 0, WARNING 1, ALARM 2, INVALID 3).
"""

from __future__ import annotations

from ..core import DisconnectedError
from ._config import Source
from ._sources import Sample

__all__ = ["TangoReader", "attribute_address", "device_address"]


def device_address(params: dict[str, str]) -> str:
    """The ``tango://`` address of the device of a TANGO source."""
    name = params["name"]
    if "://" in name:
        return name
    if params.get("hostname"):
        return f"tango://{params['hostname']}:{params.get('port', '10000')}/{name}"
    return f"tango://{name}"


def attribute_address(source: Source) -> str:
    """The ``tango://`` address of the attribute a TANGO source reads."""
    device, sep, fragment = device_address(source.params).partition("#")
    return f"{device.rstrip('/')}/{source.record}{sep}{fragment}"


class TangoReader:
    """Reads Tango attributes with :func:`ctlshell.api.get` (one cached channel each)."""

    def __init__(self, timeout: float = 3.0) -> None:
        self.timeout = timeout

    def read(self, source: Source) -> Sample:
        from .. import api

        address = attribute_address(source)
        reading = api.get(address, timeout=self.timeout)
        if not reading.connected:
            raise DisconnectedError(f"{address} is disconnected")
        return Sample(reading.value, reading.timestamp, int(reading.severity))

    def units(self, source: Source) -> str | None:
        """The attribute's unit from its Tango configuration (None when it has none)."""
        from .. import api

        return api.info(attribute_address(source), timeout=self.timeout).units or None

    def close(self) -> None:
        pass
