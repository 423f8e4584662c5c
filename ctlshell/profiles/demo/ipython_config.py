"""IPython configuration of the ``demo`` ctlshell profile: the default one, kept on
this machine (the loopback EPICS variables unless they are set already), with the
demo beamline's banner.

Used by ``ctlshell --profile demo`` (``make demo``), ``ctlshell kernelspec --profile demo``
and ``ipython --profile-dir profiles/demo``; ``startup/`` hosts the demo beamline.
"""

import os

import ctlshell
from ctlshell.cli import BANNER, DEMO_BANNER, LOOPBACK

c = get_config()  # noqa: F821  (IPython defines get_config while it runs this file)

# a demo is self-contained: searches and servers on loopback unless told otherwise
# (this file runs before the extension loads, so before any EPICS library reads them)
for key, value in LOOPBACK.items():
    os.environ.setdefault(key, value)

c.InteractiveShellApp.extensions = ["ctlshell"]
c.TerminalInteractiveShell.banner2 = BANNER.format(version=ctlshell.__version__) + DEMO_BANNER
