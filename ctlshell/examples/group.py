"""A caproto ``PVGroup`` hosted unchanged: ``ctlshell.host(Chiller(prefix="BL:CH:"))``.

Its hooks behave as under caproto's own ``run()``: the putter of ``FLOW`` stores
twice what a client writes, ``SkipWrite`` discards writes of zero to ``SPARE``, and
``TEMP`` is scanned at 10 Hz. ``PUMP``'s startup hook and ``PRESSURE``'s scan
raise, as a broken sensor would: under ctlshell those PVs go into a MAJOR alarm
while the server and every other PV keep working.
"""

from __future__ import annotations

from typing import Any

from caproto import SkipWrite
from caproto.server import PVGroup, pvproperty


class Chiller(PVGroup):
    TEMP = pvproperty(value=20.0, units="degC", precision=2, read_only=True, doc="coolant temperature")
    FLOW = pvproperty(value=1.0, units="l/min", precision=2, upper_ctrl_limit=100.0, lower_ctrl_limit=0.0)
    SPARE = pvproperty(value=5)
    PUMP = pvproperty(value=0, doc="pump state; its startup hook fails")
    PRESSURE = pvproperty(value=1.0, units="bar", read_only=True, doc="its scan fails")
    TICKS = pvproperty(value=0, read_only=True)

    @TEMP.scan(period=0.1)
    async def TEMP(self, instance: Any, async_lib: Any) -> None:
        await instance.write(20.0 + (self.TICKS.value % 10) * 0.01)
        await self.TICKS.write(self.TICKS.value + 1)

    @FLOW.putter
    async def FLOW(self, instance: Any, value: float) -> float:
        return value * 2

    @SPARE.putter
    async def SPARE(self, instance: Any, value: int) -> None:
        if value == 0:
            raise SkipWrite()

    @PUMP.startup
    async def PUMP(self, instance: Any, async_lib: Any) -> None:
        raise RuntimeError("pump controller not answering")

    @PRESSURE.scan(period=0.1)
    async def PRESSURE(self, instance: Any, async_lib: Any) -> None:
        raise OSError("pressure gauge unplugged")
