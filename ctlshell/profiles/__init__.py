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

from ._find import BUILTIN_DIR, PATH_VARIABLE, Profile, find, from_dir, names, resolve, search_path

__all__ = ["BUILTIN_DIR", "PATH_VARIABLE", "Profile", "find", "from_dir", "names", "resolve", "search_path"]
