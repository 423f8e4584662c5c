"""The default ctlshell profile: the blocking verbs in the namespace beside ``%pv``."""

import ctlshell  # noqa: F401  (in the user namespace)
from ctlshell import (  # noqa: F401
    get, host, hosted, info, journal, monitor, put, restrict_writes, status, unhost,
)
