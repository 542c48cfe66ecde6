"""os-vif 5.x's path of the ovs plugin class (``vif_plug_ovs.ovs``)."""

from os_vif.plugins.ovs import OvsPlugin

__all__ = ["OvsPlugin"]
