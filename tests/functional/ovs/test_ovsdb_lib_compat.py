"""os-vif 5.x's ``BaseOVS`` against a real ovsdb-server and ovs-vswitchd.

Used as third-party plugins used it (the 6WIND fast-path plugin's hybrid
plug: ``linux_net.create_veth_pair``, ``ensure_ovs_bridge``,
``create_ovs_vif_port``, then ``delete_ovs_vif_port``); every row is read
back with ovs-vsctl.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from pyroute2 import IPRoute

from os_vif import exception
from os_vif.internal.ovsdb import connection
from os_vif.sandbox.ovs import OvsServer
from tests.functional.ovs import ovsdb_rows

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from vif_plug_ovs import linux_net
    from vif_plug_ovs.ovsdb import ovsdb_lib

pytestmark = [
    pytest.mark.functional,
    pytest.mark.ovs,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

VIF_ID = "5f2c7b3e-1d4a-4c8e-9b6f-0a1b2c3d4e5f"
MAC = "fa:16:3e:00:00:07"


class Config:
    ovsdb_interface = "native"
    ovs_vsctl_timeout = 20

    def __init__(self, connection_string: str) -> None:
        self.ovsdb_connection = connection_string


@pytest.fixture
def base_ovs(in_ovs_netns: str, ovs: OvsServer) -> Iterator[Any]:
    try:
        yield ovsdb_lib.BaseOVS(Config(ovs.connection))
    finally:
        connection.close_all()


def test_hybrid_plug_and_unplug_as_a_5x_plugin_did(base_ovs, ovs):
    linux_net.ensure_bridge("qbrf0")
    linux_net.create_veth_pair("qvbf0", "qvof0", 1450)
    linux_net.add_bridge_port("qbrf0", "qvbf0")
    base_ovs.ensure_ovs_bridge("br-int", "system")
    base_ovs.create_ovs_vif_port(
        "br-int", "qvof0", VIF_ID, MAC, "inst-7", mtu=1450, tag=4095
    )
    assert base_ovs.port_exists("qvof0", "br-int")
    assert ovsdb_rows.port_bridge(ovs, "qvof0") == "br-int"
    iface = ovsdb_rows.row(ovs, "Interface", "qvof0")
    assert iface["external_ids"] == {
        "iface-id": VIF_ID,
        "iface-status": "active",
        "attached-mac": MAC,
        "vm-uuid": "inst-7",
    }
    assert iface["mtu_request"] == 1450
    assert ovsdb_rows.row(ovs, "Port", "qvof0")["tag"] == 4095

    base_ovs.update_ovs_vif_port("qvof0", mtu=1400)
    assert ovsdb_rows.row(ovs, "Interface", "qvof0")["mtu_request"] == 1400

    # The bridge's datapath type is never switched under its ports.
    with pytest.raises(exception.HostOperationRefused):
        base_ovs.ensure_ovs_bridge("br-int", "netdev")

    linux_net.delete_bridge("qbrf0", "qvbf0")
    base_ovs.delete_ovs_vif_port("br-int", "qvof0")
    assert not base_ovs.port_exists("qvof0", "br-int")
    assert ovsdb_rows.row(ovs, "Port", "qvof0") is None
    with IPRoute() as ipr:  # the veth os_vif made went with the port
        assert not ipr.link_lookup(ifname="qvof0")
        assert not ipr.link_lookup(ifname="qbrf0")


def test_trunk_ports_name_their_bridge_and_patch_pairs(base_ovs, ovs):
    base_ovs.create_ovs_vif_port(
        "tbr-f0", "tapf1", VIF_ID, MAC, "inst-7", datapath_type="netdev"
    )
    ids = ovsdb_rows.row(ovs, "Interface", "tapf1")["external_ids"]
    assert ids["bridge_name"] == "tbr-f0"
    base_ovs.ensure_ovs_bridge("br-int", "netdev")
    base_ovs.create_patch_port_pair(
        "tbr-f0", "tpt-f0", "br-int", "tpi-f0", VIF_ID, MAC, "inst-7"
    )
    assert ovsdb_rows.row(ovs, "Interface", "tpi-f0")["options"] == {
        "peer": "tpt-f0"
    }
    assert ovsdb_rows.port_bridge(ovs, "tpt-f0") == "tbr-f0"
    # A port of that name on another bridge is left alone.
    base_ovs.delete_ovs_vif_port("br-int", "tapf1", delete_netdev=False)
    assert ovsdb_rows.port_bridge(ovs, "tapf1") == "tbr-f0"
    base_ovs.delete_ovs_vif_port("tbr-f0", "tapf1", delete_netdev=False)
    assert ovsdb_rows.row(ovs, "Port", "tapf1") is None
