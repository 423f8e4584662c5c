"""The writer's state rules and its data-directory rule: pure, no file, no Tango.

``RULES`` maps each command to the states allowing it and the state after it;
``HINT`` says, per state, what to do next. :func:`resolve_path` keeps every file the
writer creates under its data directory. They must not know HDF5 or the sources.
"""

from __future__ import annotations

import os

from ..core import CtlshellError, ValidationError

__all__ = ["HINT", "RULES", "WriterStateError", "resolve_path"]

RULES: dict[str, tuple[frozenset[str], str]] = {
    "open_file": (frozenset({"ON"}), "OPEN"),
    "open_entry": (frozenset({"OPEN"}), "EXTRACT"),
    "record": (frozenset({"EXTRACT"}), "EXTRACT"),
    "close_entry": (frozenset({"EXTRACT"}), "OPEN"),
    "close_file": (frozenset({"OPEN", "EXTRACT", "FAULT"}), "ON"),
}
HINT = {"ON": "no file is open (OpenFile first)", "OPEN": "a file is open, no entry (OpenEntry first)",
        "EXTRACT": "an entry is open (CloseEntry first)", "FAULT": "the writer failed (CloseFile resets it)"}


class WriterStateError(CtlshellError, RuntimeError):
    """A writer command given in a state that does not allow it."""


def resolve_path(name: str, data_dir: str | None) -> str:
    """The absolute path of ``name`` (relative names are taken inside ``data_dir``).

    Raises
    ------
    ValidationError
        Empty, or outside ``data_dir`` once links and ``..`` are resolved.
    """
    if not name or not name.strip():
        raise ValidationError("no file name given")
    if data_dir is None:
        return os.path.abspath(name)
    root = os.path.realpath(data_dir)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, path]) != root or path == root:
        raise ValidationError(f"{name!r} is outside the writer's data directory {root}; refused")
    return path

