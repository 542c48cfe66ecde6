"""os-vif 5.x's module path of the ovs plugin, kept for its clients.

kuryr-kubernetes imports ``vif_plug_ovs.constants`` and calls
``vif_plug_ovs.ovs.OvsPlugin.gen_port_name``.  The plugin itself is
:mod:`os_vif.plugins.ovs`; new code must not import either (plugins are
internal, see the public API documentation).
"""
