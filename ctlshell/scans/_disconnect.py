"""A channel that disconnects mid-run pauses the run, saying which address went.

A channel of a running plan whose server has gone (the IOC stopped, the network
cut) delivers a reading with severity DISCONNECTED to its monitor (bluesky stages the
plan's signals, so they are read from their monitors), or a read of it fails with
``DisconnectedError``. (A read that times out stays an error: it fails the move or
the read, as before.) Left alone, the plan would fail with a traceback from
deep inside ophyd-async. Instead the read asks the session's RunEngine for an
immediate pause (bluesky rewinds to the last checkpoint and stops what moves), after
one line naming the address; ``RE.resume()`` once the server is back redoes the step
that failed, ``RE.abort()``/``RE.stop()`` end the run. Outside a running plan (a
device read by hand) the error is raised as it is.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..core import Address

__all__ = ["disconnected_message", "pause_for_disconnect"]

log = logging.getLogger(__name__)


def disconnected_message(address: Address | str, reason: object) -> str:
    """The one line said when ``address`` disconnects mid-run."""
    return (f"{address} disconnected mid-run ({reason}): the run is paused. "
            "RE.resume() when it is back (the step is taken again), RE.abort() or RE.stop() ends the run")


def _running_engine() -> Any:
    from . import _engine

    RE = _engine._RE  # noqa: SLF001 (our own module): never create one here
    return RE if RE is not None and RE.state == "running" else None


def pause_for_disconnect(address: Address | str, reason: object) -> bool:
    """Ask the running plan to pause because ``address`` disconnected (one line said).

    Callable from any thread, the RunEngine's loop included: the request is made from
    a thread of its own, since ``request_pause`` waits for the RunEngine's loop. The
    pause cancels the plan's pending read. Returns False (nothing done) when no plan
    runs.
    """
    RE = _running_engine()
    if RE is None:
        return False
    message = disconnected_message(address, reason)
    print(message, flush=True)
    log.warning(message)
    threading.Thread(target=_request_pause, args=(RE,), name="ctlshell-pause-on-disconnect", daemon=True).start()
    return True


def _request_pause(RE: Any) -> None:
    try:
        RE.request_pause(False)
    except Exception as exc:  # already pausing (two channels went), or the run ended meanwhile
        log.debug("pause on disconnect not taken: %s", exc)
