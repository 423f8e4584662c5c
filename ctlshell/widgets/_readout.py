"""A readout of one address: value with units, severity colour, timestamp and
connection state, kept live by the ticker."""

from __future__ import annotations

import ipywidgets as w

from ..core import Reading
from ._format import reading_html
from ._live import Live, canonical

__all__ = ["Readout"]


class Readout(Live):
    """A live readout of ``address``.

    Parameters
    ----------
    address : str
        Any ctlshell address (``ca://``, ``pva://``, ``tango://``, ``local://`` or bare).
    fps : float
        Refresh cap (default 10 a second); between frames only the newest reading is kept.

    Raises
    ------
    AddressError, NotFoundError, ChannelTimeoutError
        Bad or unknown address; nothing is subscribed.
    """

    def __init__(self, address: str, *, fps: float = 10.0) -> None:
        super().__init__(fps)
        (self.address,) = canonical([address])
        self.metadata = self._metadata([self.address])[self.address]
        self._latest: dict[str, Reading] = {}
        self.widget = w.HTML(reading_html(self.address, None, self.metadata))
        self.widget.add_class("ctlshell-readout")
        self._subscribe(self.address, self._reading_store(self._latest, self.address, self._mark))
        self._start()

    @property
    def reading(self) -> Reading | None:
        """The newest reading received (None before the first)."""
        return self._latest.get(self.address)

    def _frame(self) -> None:
        self.widget.value = reading_html(self.address, self.reading, self.metadata)
