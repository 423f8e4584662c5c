"""Profiles for the ``ctlshell`` shell and the ``ctlshell`` Jupyter kernel.

Each ``NAME.py`` here runs in the user namespace after ``%load_ext ctlshell``:
``ctlshell --profile NAME`` in the terminal, ``%ctlshell_profile NAME`` in a notebook.
"""
