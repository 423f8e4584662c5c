"""IPython configuration of the ``default`` ctlshell profile.

Used by ``ctlshell`` (``--profile default``), the ``ctlshell`` Jupyter kernel and
``ipython --profile-dir profiles/default``; the files in ``startup/`` run after it,
in the user namespace.
"""

import ctlshell
from ctlshell.cli import BANNER

c = get_config()  # noqa: F821  (IPython defines get_config while it runs this file)

# %pv, %nxwrite, %ctlshell_profile, the scan magics, completion and one-line errors
c.InteractiveShellApp.extensions = ["ctlshell"]
c.TerminalInteractiveShell.banner2 = BANNER.format(version=ctlshell.__version__)
