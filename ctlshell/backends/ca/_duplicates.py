"""libca's exception handler for ctlshell: one server seen twice is not two servers.

With loopback's broadcast address added to the search list (core/_search.py), an IOC
of this host bound to every interface answers a search twice: through 127.0.0.1 and
through the network's broadcast address. libca connects to the first answer and
reports the other as "Identical process variable names on multiple servers", which
here is one server seen twice. This handler drops that report when both answers
come from this host on the same port, and prints every other libca exception as
libca would (one block on stderr).

The reach inside aioca for its CA context (made on first use) is here: the handler
belongs to that context and must be installed once it exists, before any search.
The other, into aioca's channel cache, is in :mod:`._renew`.
"""

from __future__ import annotations

import logging
import re
import socket
import sys
from typing import Any

from epicscorelibs.ca import cadef

__all__ = ["ECA_DBLCHNL", "install", "same_server"]

log = logging.getLogger(__name__)

#: libca's status "Identical process variable names on multiple servers" (caerr.h: DEFMSG(CA_K_WARNING, 25))
ECA_DBLCHNL = 200
_PAIR = re.compile(r"Connecting to: (?P<a>\S+?):(?P<pa>\d+), Ignored: (?P<b>\S+?):(?P<pb>\d+)")
_installed: Any = None


def _this_host(host: str) -> bool:
    """True when ``host`` (a name or an address libca printed) is an address of this machine."""
    try:
        address = socket.gethostbyname(host)
    except OSError:
        return False
    if address.startswith("127."):
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((address, 0))  # only an address of one of this machine's interfaces binds
        except OSError:
            return False
    return True


def same_server(context: str) -> bool:
    """Whether libca's duplicate-name report ``context`` names one server of this host twice."""
    match = _PAIR.search(context)
    if match is None or match["pa"] != match["pb"]:
        return False
    return _this_host(match["a"]) and _this_host(match["b"])


@cadef.exception_handler
def _on_exception(args: Any) -> None:
    try:
        context = args.ctx.decode(errors="replace") if args.ctx else ""
        if args.stat == ECA_DBLCHNL and same_server(context):
            log.debug("one server of this host answered twice: %s", context)
            return
        where = f"{args.pFile.decode(errors='replace')} line {args.lineNo}" if args.pFile else ""
        print(f"CA.Client.Exception...\n    {cadef.ca_message(args.stat)}\n    Context: \"{context}\"\n"
              f"    Source File: {where}", file=sys.stderr, flush=True)
    except Exception:  # never let an exception cross into libca
        pass


def install() -> bool:
    """Install the handler into aioca's CA context (made now if needed); once. Returns whether it is in."""
    global _installed
    if _installed is not None:
        return True
    try:
        from aioca._catools import _Context

        _Context._ensure_context()
        cadef.ca_add_exception_event(_on_exception, None)
    except Exception as exc:  # libca's own reporting stays
        log.debug("libca exception handler not installed: %s", exc)
        return False
    _installed = _on_exception
    return True
