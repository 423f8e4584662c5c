"""The IPython configuration that runs a ctlshell profile: the same for the terminal
(``ctlshell``) and the Jupyter kernel (``python -m ctlshell.ipython.kernel``).

The profile's ``ipython_config.py`` is loaded as IPython's extra config file (after the
user's own IPython configuration, so it wins), its startup files run as
``InteractiveShellApp.exec_files`` (after the user's IPython startup files, before
``-c``), and the extension is loaded whatever the profile's config says. IPython keeps
its state (history, ``security/``) in the user's own IPython profile: the profile
directory is only read, so an installed, read-only copy works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traitlets.config import Config

    from ..profiles import Profile

__all__ = ["profile_config"]


def profile_config(profile: Profile) -> tuple[Config, list[str]]:
    """The configuration and the IPython arguments that run ``profile``.

    Parameters
    ----------
    profile : Profile
        The profile (see :mod:`ctlshell.profiles`).

    Returns
    -------
    (Config, list of str)
        The config to pass to the application (``config=``) and the arguments to put
        before the user's (``--config=FILE`` when the profile has an ``ipython_config.py``).
    """
    from traitlets.config import Config

    config = Config()
    config.InteractiveShellApp.extra_extensions = ["ctlshell"]
    config.InteractiveShellApp.exec_files = [str(f) for f in profile.startup_files()]
    argv = [] if profile.config_file is None else [f"--config={profile.config_file}"]
    return config, argv
