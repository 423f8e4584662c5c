"""The default ctlshell profile: the blocking verbs in the namespace beside ``%pv``."""

import ctlshell
from ctlshell import get, host, hosted, info, monitor, put, status, unhost  # noqa: F401
