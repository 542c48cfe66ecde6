"""os-vif 5.x's module path of the noop plugin, kept for its clients.

os-vif 5.x shipped its ``noop`` plugin as the top-level package
``vif_plug_noop`` (class ``vif_plug_noop.noop.NoOpPlugin``); code that
imports it from there keeps working.  The plugin itself is
:mod:`os_vif.plugins.noop`; new code must not import either (plugins are
internal, see the public API documentation).
"""
