"""The default ctlshell profile: the blocking verbs in the namespace beside ``%pv``."""

import ctlshell  # noqa: F401  (in the user namespace)
from ctlshell import get, host, hosted, info, monitor, put, status, unhost  # noqa: F401
