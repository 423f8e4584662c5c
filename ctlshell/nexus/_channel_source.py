"""CHANNEL data sources: ctlshell addresses (``ca://``, ``pva://``, ``local://``) read
through ``ctlshell.api`` (the channel cache), with server timestamp and severity.

``<datasource type="CHANNEL"><record name="ca://BL:MOTOR.RBV"/></datasource>``.
"""

from __future__ import annotations

from ..core import DisconnectedError
from ._config import Source
from ._sources import Sample

__all__ = ["ChannelReader"]


class ChannelReader:
    """Reads a ctlshell channel with :func:`ctlshell.api.get`."""

    def __init__(self, timeout: float = 3.0) -> None:
        self.timeout = timeout

    def read(self, source: Source) -> Sample:
        from .. import api

        reading = api.get(source.record, timeout=self.timeout)
        if not reading.connected:
            raise DisconnectedError(f"{source.record} is disconnected")
        return Sample(reading.value, reading.timestamp, int(reading.severity))

    def units(self, source: Source) -> str | None:
        """The channel's units from its metadata (None when it has none)."""
        from .. import api

        return api.info(source.record, timeout=self.timeout).units or None

    def close(self) -> None:
        pass

