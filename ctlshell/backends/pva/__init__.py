"""The ``pva://`` backend: EPICS PV Access through p4p's asyncio client.

NTScalar, NTScalarArray and NTEnum map onto :class:`~ctlshell.core.Reading` and
:class:`~ctlshell.core.Metadata`; other structures are shown field by field and
their fields addressed as ``pva://NAME.field.sub``.
"""

from ._backend import PvaBackend

__all__ = ["PvaBackend"]
