"""The session's RunEngine, made on first use (``import ctlshell`` stays fast).

bluesky's RunEngine runs its own event loop on its own thread ("bluesky-run-engine").
ctlshell's channels stay on ctlshell's runtime loop; devices bridge one way only
(bluesky's loop awaits the runtime loop, never the reverse), so the two loops cannot
deadlock (ADR "scans on bluesky"). ``scan_id`` persists across sessions in a small
JSON file next to the state file (or in ``~/.ctlshell/scans.json``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["run_engine"]

_RE: Any = None
_lock = threading.Lock()
log = logging.getLogger(__name__)


def _md_path() -> Path:
    base = os.environ.get("CTLSHELL_SCANS_MD")
    if base:
        return Path(base)
    return Path.home() / ".ctlshell" / "scans.json"


class _PersistentMd(dict):
    """RunEngine metadata whose ``scan_id`` survives a restart (written on change)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        try:
            saved = json.loads(path.read_text())
            if isinstance(saved, dict) and isinstance(saved.get("scan_id"), int):
                super().__setitem__("scan_id", saved["scan_id"])
        except (OSError, ValueError):
            pass

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        if key == "scan_id":
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self._path.with_suffix(".tmp")
                tmp.write_text(json.dumps({"scan_id": value}))
                tmp.replace(self._path)
            except OSError:
                pass  # a read-only home: scan ids then restart at 1 next session


def run_engine() -> Any:
    """The session's :class:`bluesky.RunEngine` (created on first call)."""
    global _RE
    with _lock:
        if _RE is None:
            from ._interrupt import StopOnInterrupt
            from ._run_engine import GuardedRunEngine

            from ..api import before_shutdown

            _RE = GuardedRunEngine(_PersistentMd(_md_path()), call_returns_result=True,
                                   context_managers=[StopOnInterrupt])
            before_shutdown(_end_the_run)
        return _RE


def _end_the_run() -> None:
    """At shutdown (the shell exits, ``ctlshell.shutdown()``): a run left paused after
    a Ctrl-C is aborted while its devices still answer. The RunEngine stops what the
    plan moved, the run's stop document (and its NeXus entry) says ``abort``. Left
    alone, bluesky's cleanup would run during the interpreter's exit, after the
    session closed, and hang there."""
    RE = _RE
    if RE is None or RE.state == "idle":
        return
    print(f"ctlshell is shutting down: aborting the {RE.state} run", file=sys.stderr, flush=True)
    quiet = _NoAbortTraceback()
    logger = getattr(RE.log, "logger", RE.log)  # bluesky wraps it in a LoggerAdapter
    logger.addFilter(quiet)  # "Run aborted" stays one line: the abort is ours, not an error
    try:
        RE.abort(reason="ctlshell shut down")
    except Exception as exc:  # a plan's own error, re-raised by the abort: the run has ended
        log.info("the run ended at shutdown with %s: %s", type(exc).__name__, exc)
    finally:
        logger.removeFilter(quiet)


class _NoAbortTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and type(record.exc_info[1]).__name__ == "RequestAbort":
            record.exc_info, record.exc_text = None, None
        return True
