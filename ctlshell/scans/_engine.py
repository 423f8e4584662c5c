"""The session's RunEngine, made on first use (``import ctlshell`` stays fast).

bluesky's RunEngine runs its own event loop on its own thread ("bluesky-run-engine").
ctlshell's channels stay on ctlshell's runtime loop; devices bridge one way only
(bluesky's loop awaits the runtime loop, never the reverse), so the two loops cannot
deadlock (ADR "scans on bluesky"). ``scan_id`` persists across sessions in a small
JSON file next to the state file (or in ``~/.ctlshell/scans.json``).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["run_engine"]

_RE: Any = None
_lock = threading.Lock()


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
            from bluesky import RunEngine

            from ._interrupt import StopOnInterrupt

            _RE = RunEngine(_PersistentMd(_md_path()), call_returns_result=True,
                            context_managers=[StopOnInterrupt])
        return _RE
