"""Sphinx configuration of sb3-behave's documentation (``make docs`` builds it, warnings are errors)."""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # autodoc imports pygame modules
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import sb3_behave  # noqa: E402

project = "sb3-behave"
author = "sb3-behave developers"
copyright = "2026, sb3-behave developers"
release = sb3_behave.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "myst_parser",
    "sphinx_copybutton",
    "sb3_behave_docs",  # _ext/: the public-API check, the missing-reference policy, the zoo's config keys
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_inventories", "Thumbs.db", ".DS_Store"]
language = "en"

# Every reference must resolve (warnings are errors): see _ext/sb3_behave_docs.py for the few
# kinds of target that are not checked, and why.
nitpicky = True

# MyST (Markdown) pages, as SB3's own docs are written.
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 4

# The API reference: SB3's style (reST ``:param:`` docstrings, types in the parameter list).
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_member_order = "bysource"
autodoc_class_signature = "mixed"
autodoc_default_options = {"show-inheritance": True}
autodoc_mock_imports: list[str] = []

# The other projects' objects link to their sites. Nothing here reaches the network: their
# inventories are read from _inventories/ (its README says where they come from and how to refresh them).
INVENTORIES = DOCS / "_inventories"
intersphinx_mapping = {
    "stable_baselines3": ("https://stable-baselines3.readthedocs.io/en/master/", str(INVENTORIES / "stable_baselines3.inv")),
    "imitation": ("https://imitation.readthedocs.io/en/latest/", str(INVENTORIES / "imitation.inv")),
    "gymnasium": ("https://gymnasium.farama.org/", str(INVENTORIES / "gymnasium.inv")),
}

html_theme = "sphinx_rtd_theme"
html_title = f"sb3-behave {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {"navigation_depth": 3, "collapse_navigation": False}
pygments_style = "sphinx"
copybutton_prompt_text = r"\$ "
copybutton_prompt_is_regexp = True
