"""A Tango device for the NeXus tests: ``temperature`` (K, quality WARNING above
300 K), ``counts`` (a 4-point spectrum) and ``set_temperature`` to change it."""

import time

from tango import AttrQuality
from tango.server import Device, attribute, command


class Thermo(Device):
    def init_device(self):
        super().init_device()
        self._t = 295.5

    @attribute(dtype=float, unit="K")
    def temperature(self):
        quality = AttrQuality.ATTR_WARNING if self._t > 300 else AttrQuality.ATTR_VALID
        return self._t, time.time(), quality

    @attribute(dtype=(float,), max_dim_x=4)
    def counts(self):
        return [1.0, 2.0, 3.0, self._t]

    @command(dtype_in=float)
    def set_temperature(self, value):
        self._t = value


if __name__ == "__main__":
    Thermo.run_server()
