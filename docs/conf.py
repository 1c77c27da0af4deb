"""Sphinx configuration: the API reference is built from the package's docstrings."""

from __future__ import annotations

from sogni_sync._version import __version__

project = "sogni-sync"
author = "sogni-sync contributors"
copyright = "sogni-sync contributors"  # noqa: A001 (Sphinx's name)
release = version = __version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode"]
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autoclass_content = "both"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
nitpicky = False
