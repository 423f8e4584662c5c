"""Sphinx configuration of the ctlshell site (``make docs``).

The pages are MyST markdown (``docs/**/*.md``); the API reference is built by autodoc
from the numpydoc docstrings of the public modules. Nothing is executed at build time
(no notebooks), so a build takes seconds; every code example of the pages is run by
the test suite instead (``tests/readme.py``, ``tests/unit/test_docs_examples.py``).
"""

from __future__ import annotations

project = "ctlshell"
author = "the ctlshell developers"
copyright = "2026, the ctlshell developers"  # noqa: A001 (Sphinx's name)

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]

# headings get GitHub's anchors, so README.md's and the pages' `page.md#section` links
# work on GitHub and in the site alike (tests/unit/test_docs_links.py checks them)
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

html_theme = "furo"
html_title = "ctlshell"

autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the signature shows them; numpydoc's sections say the rest
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
