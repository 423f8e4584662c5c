"""For the interactive layer: one channel's whole story (``describe``) and the
names and enum choices known here without asking any server (``known_names``,
``known_choices``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core import (
    AddressError,
    ChannelStatus,
    Metadata,
    parse_address,
)
from . import _sessions
from ._sessions import session

# -- for the interactive layer: one channel's whole story, and the names known here ----
@dataclass(frozen=True)
class ChannelInfo:
    """What ``describe()`` knows about one channel.

    Attributes
    ----------
    address : str
    metadata : Metadata
    status : ChannelStatus or None
        Its entry in the channel cache (state, local users, updates, dropped, last update).
    server : str
        ``"this process"`` for a PV hosted here, else what the backend reports ("" if nothing).
    """

    address: str
    metadata: Metadata
    status: ChannelStatus | None
    server: str = ""


def describe(address: str, *, timeout: float | None = None) -> ChannelInfo:
    """Metadata, connection state, server, local subscribers and drops of a channel."""
    s = session()
    addr = parse_address(address, s.config.default_scheme)

    async def gather() -> ChannelInfo:
        meta = await s.cache.info(addr, timeout or s.config.timeout)
        status = next((st for st in s.cache.status() if st.address == str(addr)), None)
        if addr.scheme in ("ca", "local") and addr.name in set(s.store.names()):
            server = "this process"
        else:
            backend = s.cache.entry(addr).backend
            server = str(getattr(backend, "server_of", lambda name: "")(addr.name) or "")
        return ChannelInfo(str(addr), meta, status, server)

    return s.run(gather(), timeout, f"describe {addr}")


def known_names() -> list[str]:
    """Addresses this process knows without asking any server: hosted PVs and the
    channel cache. Never creates a session, opens a socket or runs device code."""
    s = _sessions._session
    if s is None or s.runtime.closed:
        return []
    names = {f"ca://{n}" for n in s.store.names()}
    for obj in list(s.objects):
        names.update(f"ca://{n}" for n in getattr(obj, "names", ()))
    try:
        names.update(str(a) for a in s.cache.addresses())
    except RuntimeError:  # the loop changed the cache under us: skip it this time
        pass
    return sorted(names)


def known_choices(address: str) -> tuple[str, ...] | None:
    """The enum choices of ``address`` known here without asking any server.

    From the spec of a PV hosted in this process, else from metadata the channel cache
    already holds. Never creates a session, opens a socket or runs device code.

    Parameters
    ----------
    address : str
        Any address spelling (a bare name uses the session's default scheme).

    Returns
    -------
    tuple of str or None
        The choices in order; None when it is not an enum, nothing is known about it,
        or the address does not parse.
    """
    s = _sessions._session
    if s is None or s.runtime.closed:
        return None
    try:
        addr = parse_address(address, s.config.default_scheme)
    except AddressError:
        return None
    if addr.scheme in ("ca", "local") and addr.name in s.store:
        return s.store.get(addr.name).metadata.choices
    try:
        meta = s.cache.metadata_of(addr)
    except RuntimeError:  # the loop changed the cache under us
        return None
    return None if meta is None else meta.choices
