"""Sphinx configuration of os-vif's release notes (built by reno)."""

project = "os-vif release notes"
copyright = "os-vif developers"
extensions = ["reno.sphinxext"]
master_doc = "index"
exclude_patterns = ["_build"]
html_theme = "alabaster"
