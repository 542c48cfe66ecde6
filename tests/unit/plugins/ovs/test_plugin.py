"""The ovs plugin's contract: loading, options, describe()."""

from __future__ import annotations

import pytest

from os_vif import exception
from os_vif.objects import vif as vif_objects
from os_vif.plugins.ovs import OvsPlugin


def test_describe_lists_types_versions_and_profiles():
    plugin = OvsPlugin.load("ovs")
    info = plugin.describe()
    assert info.plugin_name == "ovs"
    described = {
        v.vif_object_name: (
            v.min_version,
            v.max_version,
            sorted(p.profile_object_name for p in v.supported_port_profiles),
        )
        for v in info.vif_info
    }
    ovs = "VIFPortProfileOpenVSwitch"
    rep = "VIFPortProfileOVSRepresentor"
    assert described == {
        "VIFBridge": ("1.0", vif_objects.VIFBridge.VERSION, [ovs]),
        "VIFOpenVSwitch": ("1.0", vif_objects.VIFOpenVSwitch.VERSION, [ovs]),
        "VIFVHostUser": (
            "1.0",
            vif_objects.VIFVHostUser.VERSION,
            sorted([ovs, rep]),
        ),
        "VIFHostDevice": ("1.0", vif_objects.VIFHostDevice.VERSION, [rep]),
    }
    for vif_info in info.vif_info:
        for profile in vif_info.supported_port_profiles:
            cls = getattr(vif_objects, profile.profile_object_name)
            assert profile.max_version == cls.VERSION


def test_vsctl_interface_is_accepted(conf):
    conf.config(ovsdb_interface="vsctl", group="os_vif_ovs")
    OvsPlugin.load("ovs")


def test_unknown_interface_is_refused(conf):
    OvsPlugin.load("ovs")
    conf.config(ovsdb_interface="carrier-pigeon", group="os_vif_ovs")
    with pytest.raises(exception.InvalidArgument) as caught:
        OvsPlugin.load("ovs")
    assert caught.value.kwargs["field"] == "os_vif_ovs.ovsdb_interface"
