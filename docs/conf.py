"""Sphinx configuration of the nispace documentation.

Build with ``sphinx-build -b html docs docs/_build/html`` from the repository root
(``tests/test_docs.py`` adds ``-W --keep-going``: warnings fail the build). The gallery
examples are executed with the offline data mirror when ``NISPACE_DATA_URL`` is unset
and ``../shared/nispace-data`` (beside the repository) exists.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document this checkout, not another installed copy

_MIRROR = ROOT / ".." / "shared" / "nispace-data"
if "NISPACE_DATA_URL" not in os.environ and _MIRROR.is_dir():
    os.environ["NISPACE_DATA_URL"] = str(_MIRROR.resolve())
# figures of the executed examples are drawn off-screen
os.environ.setdefault("MPLBACKEND", "Agg")

import nispace  # noqa: E402

project = "nispace"
author = "nispace developers"
copyright = "nispace developers"
release = nispace.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "generated/*.examples", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.md5",
                    "auto_examples/*.codeobj.json", "sg_execution_times.rst"]
templates_path: list[str] = []
nitpicky = False

# API reference: one page per public object, written from the docstrings
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# no network at build time: intersphinx only resolves from cached inventories
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # executed: files named plot_*.py except those that need the internet
    "filename_pattern": r"/plot_(?!neurovault)",
    "ignore_pattern": r"__init__\.py|pet_summary\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "reset_modules": ("matplotlib",),
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "plot_gallery": "True",
    "min_reported_time": 1,
}

html_theme = "pydata_sphinx_theme"
html_title = f"nispace {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "icon_links": [],
}
html_static_path: list[str] = []
html_show_sourcelink = False
