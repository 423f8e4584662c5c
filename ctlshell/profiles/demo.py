"""The demo profile: the default one plus the demo beamline hosted in this process
(``DEMO:MOTOR``, ``DEMO:MOTOR.RBV``, ``DEMO:DET:COUNTS``, ``DEMO:RING:CURRENT``,
``DEMO:SHUTTER``, ``DEMO:SAMPLE:TEMP``, ``DEMO:SPECTRUM``) as ``demo``."""

import ctlshell.demo
from ctlshell.profiles.default import ctlshell, get, host, hosted, info, journal  # noqa: F401
from ctlshell.profiles.default import monitor, put, restrict_writes, status, unhost  # noqa: F401

demo = ctlshell.demo.start()
