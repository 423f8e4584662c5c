"""Where the CA and PVA clients search when the user configured nothing: also this host.

libca takes its search list from the environment when its context is created
(EPICS_CA_ADDR_LIST, plus the broadcast address of every interface but loopback while
EPICS_CA_AUTO_ADDR_LIST is not NO). Servers bound to loopback only (every ctlshell
server by default, an IOC started with EPICS_CAS_INTF_ADDR_LIST=127.0.0.1) are then
never found from their own host. When EPICS_CA_ADDR_LIST is unset or empty and the
automatic list is on, ctlshell adds loopback's broadcast address before libca's
context exists: libca then searches 127.255.255.255 *and* the automatic list, and
every server of the host answers (see host/_ca_udp.py). Any value the user set wins.

This is the process's environment (libca has no other way in), so libca contexts made
later in this process (pyepics in a notebook) and child processes search the same way.

PV Access (pvxs) is configured per client context instead (:func:`local_pva_search`,
no environment change): with EPICS_PVA_ADDR_LIST unset it also searches
``127.0.0.1``. A pvxs server re-sends each unicast search it receives to its host's
local multicast group (224.0.0.128 on loopback), so every PVA server of the host sees
it; a broadcast to 127.255.255.255 is not answered by pvxs servers bound to loopback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping

__all__ = ["LOOPBACK_BROADCAST", "apply_local_search", "local_pva_search", "local_search"]

#: The broadcast address of 127.0.0.0/8: a search to it reaches every CA server on this host's loopback.
LOOPBACK_BROADCAST = "127.255.255.255"


def local_search(env: Mapping[str, str]) -> dict[str, str]:
    """What to add to ``env`` so that libca also searches this host's loopback ({} when set by the user)."""
    if env.get("EPICS_CA_ADDR_LIST", "").strip():
        return {}
    if env.get("EPICS_CA_AUTO_ADDR_LIST", "").strip().upper() == "NO":
        return {}  # the user asked for an explicit, empty list
    return {"EPICS_CA_ADDR_LIST": LOOPBACK_BROADCAST}


def apply_local_search(env: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Add :func:`local_search` to ``env`` (``os.environ``) before libca's context is made; returns what was added."""
    env = os.environ if env is None else env
    added = local_search(env)
    env.update(added)
    return added


def local_pva_search(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Settings for a pvxs client context (over ``env``, ``os.environ``) that also search this host.

    Empty when the user set EPICS_PVA_ADDR_LIST or turned the automatic list off.
    """
    env = os.environ if env is None else env
    if env.get("EPICS_PVA_ADDR_LIST", "").strip():
        return {}
    if env.get("EPICS_PVA_AUTO_ADDR_LIST", "").strip().upper() == "NO":
        return {}
    return {"EPICS_PVA_ADDR_LIST": "127.0.0.1"}
