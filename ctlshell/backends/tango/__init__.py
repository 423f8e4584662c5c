"""The ``tango://`` backend: Tango attributes and commands through pytango.

Addresses: ``tango://[host:port/]domain/family/member/attribute`` and
``tango://[host:port/]domain/family/member->Command``, with ``#dbase=no`` to reach
a device server directly at ``host:port``. Why the tests use pytango's SQLite
database: docs/decisions/0005-embedded-tango-database.md.
"""

from ._backend import TangoBackend
from ._encoded import Encoded, decode_image

__all__ = ["Encoded", "TangoBackend", "decode_image"]
