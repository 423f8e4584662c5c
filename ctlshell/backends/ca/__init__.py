"""The ``ca://`` backend: EPICS Channel Access through aioca (libca, asyncio-native).

Why aioca and not caproto's client: docs/decisions/0002-ca-client-aioca.md.
"""

from ._backend import CaBackend

__all__ = ["CaBackend"]
