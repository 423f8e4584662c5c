"""Client side, one module per control system; none imports another.

Each backend implements :class:`ctlshell.core.Backend` and is loaded lazily by the
registry, so a missing protocol library only matters when its scheme is used.
"""

#: scheme -> "module:Class", handed to :class:`ctlshell.core.BackendRegistry`.
DEFAULT_BACKENDS = {
    "ca": "ctlshell.backends.ca:CaBackend",
    "pva": "ctlshell.backends.pva:PvaBackend",
    "tango": "ctlshell.backends.tango:TangoBackend",
}

__all__ = ["DEFAULT_BACKENDS"]
