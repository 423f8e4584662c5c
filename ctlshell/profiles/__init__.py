"""Profiles of the ``ctlshell`` shell and kernel: IPython profile directories.

A profile is a directory laid out as IPython's own: ``ipython_config.py`` (loads the
ctlshell extension; IPython configuration) and ``startup/*.py`` (and ``*.ipy``), run
in name order in the user namespace. Two ship here, inside the package (the repository's
top-level ``profiles`` is a link to this directory):

- ``default``: the extension and the blocking verbs (``get``, ``put``, ``host``, ...);
- ``demo``: the same, kept on loopback, plus the demo beamline hosted in-process.

A site adds its own beside them: a directory of profile directories named in
``CTLSHELL_PROFILE_PATH`` (several separated by ``os.pathsep``; searched first, so a
site may also replace ``default``), or one profile directory given as
``ctlshell --profile-dir DIR``. ``ipython --profile-dir profiles/demo`` uses a
directory as a plain IPython profile (IPython then keeps its state, ``log/``, ``pid/``,
``security/``, in it); ``ctlshell`` and the kernel only read it.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from ..core import ValidationError

__all__ = ["BUILTIN_DIR", "PATH_VARIABLE", "Profile", "find", "from_dir", "names", "resolve", "search_path"]

#: Where the shipped profiles are (``default``, ``demo``).
BUILTIN_DIR = Path(__file__).resolve().parent

#: The environment variable naming a site's directories of profiles.
PATH_VARIABLE = "CTLSHELL_PROFILE_PATH"

CONFIG_FILE = "ipython_config.py"


@dataclass(frozen=True)
class Profile:
    """One profile directory.

    Attributes
    ----------
    name : str
        The directory's name (``demo``).
    path : pathlib.Path
        The directory, absolute.
    """

    name: str
    path: Path

    @property
    def config_file(self) -> Path | None:
        """``ipython_config.py`` of the profile, or None when it has none."""
        file = self.path / CONFIG_FILE
        return file if file.is_file() else None

    def startup_files(self) -> list[Path]:
        """The files of ``startup/`` IPython would run, in the order it runs them (by name)."""
        found = glob.glob(os.path.join(self.path, "startup", "*.py"))
        found += glob.glob(os.path.join(self.path, "startup", "*.ipy"))
        return [Path(f) for f in sorted(found)]


def _is_profile(path: Path) -> bool:
    return (path / CONFIG_FILE).is_file() or (path / "startup").is_dir()


def search_path() -> list[Path]:
    """The directories searched for a profile by name: ``CTLSHELL_PROFILE_PATH``'s, then the shipped one."""
    site = [Path(p).expanduser() for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if p.strip()]
    return [*site, BUILTIN_DIR]


def names() -> list[str]:
    """The names of every profile found on :func:`search_path`, sorted."""
    found: set[str] = set()
    for where in search_path():
        if where.is_dir():
            found.update(p.name for p in where.iterdir() if p.is_dir() and _is_profile(p))
    return sorted(found)


def find(name: str) -> Profile:
    """The profile called ``name``: the first directory of that name on :func:`search_path`.

    Parameters
    ----------
    name : str
        A profile name (``default``, ``demo``, a site's), not a path.

    Returns
    -------
    Profile

    Raises
    ------
    ValidationError
        ``name`` is not a plain name, or no profile has it (the message lists those there are).
    """
    if not name or name in (".", "..") or "/" in name or os.sep in name or (os.altsep and os.altsep in name):
        raise ValidationError(f"{name!r} is not a profile name (give a directory with --profile-dir)")
    for where in search_path():
        candidate = where / name
        if candidate.is_dir() and _is_profile(candidate):
            return Profile(name, candidate.resolve())
    raise ValidationError(f"no ctlshell profile {name!r}; profiles: {', '.join(names())}")


def from_dir(path: str | os.PathLike[str]) -> Profile:
    """The profile in directory ``path`` (a site's, anywhere).

    Raises
    ------
    ValidationError
        ``path`` is not a directory, or has neither ``ipython_config.py`` nor ``startup/``.
    """
    where = Path(path).expanduser()
    if not where.is_dir():
        raise ValidationError(f"profile directory {str(path)!r} does not exist")
    if not _is_profile(where):
        raise ValidationError(f"{str(path)!r} is not a profile directory: it has neither {CONFIG_FILE} nor startup/")
    where = where.resolve()
    return Profile(where.name, where)


def resolve(spec: str) -> Profile:
    """A profile from a name or, when ``spec`` contains a path separator, a directory.

    Raises
    ------
    ValidationError
        As :func:`find` and :func:`from_dir`.
    """
    if "/" in spec or os.sep in spec or spec.startswith(("~", ".")):
        return from_dir(spec)
    return find(spec)
