"""The demo beamline hosted in this process as ``demo``: ``DEMO:MOTOR``, ``DEMO:MOTOR.RBV``,
``DEMO:DET:COUNTS``, ``DEMO:RING:CURRENT``, ``DEMO:SHUTTER``, ``DEMO:SAMPLE:TEMP``,
``DEMO:SPECTRUM``."""

import ctlshell.demo

demo = ctlshell.demo.start()
