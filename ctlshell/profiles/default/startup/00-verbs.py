"""The blocking verbs in the user namespace beside ``%pv`` (``get``, ``put``, ``host``, ...)."""

import ctlshell  # noqa: F401  (in the user namespace)
from ctlshell import (  # noqa: F401
    get, host, hosted, info, journal, monitor, put, restrict_writes, status, unhost,
)
