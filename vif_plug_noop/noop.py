"""os-vif 5.x's path of the noop plugin class (``vif_plug_noop.noop``)."""

from os_vif.plugins.noop import NoOpPlugin

__all__ = ["NoOpPlugin"]
