"""Finding profile directories: by name on a search path (a site's directories, then the
shipped ones), or one directory given as such; what a profile directory holds.

Knows paths only: running a profile is :mod:`ctlshell.ipython._launch`'s.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core import ValidationError

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


def search_path(site: Sequence[str | os.PathLike[str]] | None = None) -> list[Path]:
    """The directories searched for a profile by name: a site's, then the shipped one.

    Parameters
    ----------
    site : sequence of paths, optional
        Directories of profile directories; by default those of ``CTLSHELL_PROFILE_PATH``
        (separated by ``os.pathsep``).
    """
    if site is None:
        site = [p for p in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if p.strip()]
    return [*(Path(p).expanduser() for p in site), BUILTIN_DIR]


def names(site: Sequence[str | os.PathLike[str]] | None = None) -> list[str]:
    """The names of every profile found on :func:`search_path` (``site`` as there), sorted."""
    found: set[str] = set()
    for where in search_path(site):
        if where.is_dir():
            found.update(p.name for p in where.iterdir() if p.is_dir() and _is_profile(p))
    return sorted(found)


def find(name: str, site: Sequence[str | os.PathLike[str]] | None = None) -> Profile:
    """The profile called ``name``: the first directory of that name on :func:`search_path`.

    Parameters
    ----------
    name : str
        A profile name (``default``, ``demo``, a site's), not a path.
    site : sequence of paths, optional
        A site's directories of profiles (default: ``CTLSHELL_PROFILE_PATH``'s).

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
    for where in search_path(site):
        candidate = where / name
        if candidate.is_dir() and _is_profile(candidate):
            return Profile(name, candidate.resolve())
    raise ValidationError(f"no ctlshell profile {name!r}; profiles: {', '.join(names(site))}")


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


def resolve(spec: str, site: Sequence[str | os.PathLike[str]] | None = None) -> Profile:
    """A profile from a name (see :func:`find`) or, when ``spec`` is a path, a directory.

    Parameters
    ----------
    spec : str
        ``demo``, or ``./mine``, ``~/mine``, ``/opt/site/profiles/mine``.
    site : sequence of paths, optional
        As for :func:`find`.

    Raises
    ------
    ValidationError
        As :func:`find` and :func:`from_dir`.
    """
    if "/" in spec or os.sep in spec or spec.startswith(("~", ".")):
        return from_dir(spec)
    return find(spec, site)
