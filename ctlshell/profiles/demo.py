"""The demo profile: the default one plus the demo beamline hosted in this process
(``DEMO:MOTOR``, ``DEMO:MOTOR.RBV``, ``DEMO:DET:COUNTS``, ``DEMO:RING:CURRENT``,
``DEMO:SHUTTER``, ``DEMO:SAMPLE:TEMP``, ``DEMO:SPECTRUM``) as ``demo``."""

import ctlshell
import ctlshell.demo
from ctlshell import get, host, hosted, info, monitor, put, status, unhost  # noqa: F401

demo = ctlshell.demo.start()
