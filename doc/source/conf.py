"""Sphinx configuration of the os-vif documentation."""

project = "os-vif"
copyright = "os-vif developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
master_doc = "index"
exclude_patterns = ["_build"]
html_theme = "alabaster"
autodoc_member_order = "bysource"
nitpicky = False
