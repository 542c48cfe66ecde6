"""The host the ovs plugin leaves is the one os-vif 5.3.0 leaves.

Each test is one difference found by plugging the same VIFs with os-vif
5.3.0 and with this tree (issue 19), now closed: the neutron agent's
smart-NIC VIF without an id, the hybrid ``qbr``'s settings, IPv6 on taps,
the unplug of a VIF plugged hybrid before a cold migration, trunk ports'
``bridge_name``, QoS rows either release deletes, bridges made without
``create_port`` and the datapath a VIF that names none implies.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif.internal import linkstate
from os_vif.internal.ovsdb import model
from os_vif.objects import instance_info, network
from os_vif.objects import vif as vif_objects
from os_vif.plugins.ovs import naming
from os_vif.sandbox import vifs
from os_vif.sandbox.ovs import OvsServer
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

INSTANCE = vifs.INSTANCE
_IFF_PROMISC = 0x100


def _links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


def _bridge_data(name: str) -> dict[str, Any]:
    """The bridge's IFLA_BR_* attributes, read through netlink.

    (/sys/class/net shows the namespace sysfs was mounted in, not this
    test's.)
    """
    with IPRoute() as ipr:
        (link,) = ipr.link("get", ifname=name)
    data = link.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")
    return {key: value for key, value in data["attrs"]}


def _promiscuous(name: str) -> bool:
    with IPRoute() as ipr:
        (link,) = ipr.link("get", ifname=name)
    return bool(link["flags"] & _IFF_PROMISC)


def _smart_nic_vif(representor: str, n: int) -> Any:
    """The VIF neutron's OVS agent plugs for a smart-NIC port.

    Built as ``ovs_neutron_agent`` builds it: no id, a profile with the
    port's id and ``create_port``, a network naming only the integration
    bridge, the representor netdev as ``vif_name``.
    """
    profile = vif_objects.VIFPortProfileOpenVSwitch(
        interface_id=vifs.vif_id(n), create_port=True
    )
    return vif_objects.VIFOpenVSwitch(
        vif_name=representor,
        plugin="ovs",
        port_profile=profile,
        network=network.Network(bridge="br-int"),
        address=vifs.mac(n),
    )


def test_neutron_smart_nic_vif(ovs_plugin, ovs: OvsServer, conf) -> None:
    conf.config(group="os_vif_ovs", network_device_mtu=1400)
    # The representor: a host device (a veth end here) os_vif may set the
    # MTU of, never delete.
    with IPRoute() as ipr:
        ipr.link("add", ifname="enp3s0f0_7", kind="veth", peer="rep-peer7")
        ipr.link("set", ifname="enp3s0f0_7", mtu=9000)
    vif = _smart_nic_vif("enp3s0f0_7", 7)
    agent_instance = instance_info.InstanceInfo(uuid=vifs.vif_id(70))
    os_vif.initialize()
    os_vif.plug(vif, agent_instance)

    assert ovsdb_rows.port_bridge(ovs, "enp3s0f0_7") == "br-int"
    iface = ovsdb_rows.row(ovs, "Interface", "enp3s0f0_7")
    assert iface["external_ids"] == {
        "iface-id": vifs.vif_id(7),
        "iface-status": "active",
        "attached-mac": vifs.mac(7),
        "vm-uuid": vifs.vif_id(70),
    }
    assert linkstate.get_device("enp3s0f0_7").mtu == 1400
    # No datapath type named: the kernel's, with its QoS row (5.3.0).
    (qos,) = ovsdb_rows.rows(ovs, "QoS")
    assert qos["external_ids"] == model.qos_external_ids(
        "enp3s0f0_7", "linux-noop"
    )
    os_vif.plug(vif, agent_instance)  # again: fine

    # The agent unplugs with an instance of no uuid.
    os_vif.unplug(vif, instance_info.InstanceInfo(uuid=""))
    assert ovsdb_rows.row(ovs, "Port", "enp3s0f0_7") is None
    assert ovsdb_rows.rows(ovs, "QoS") == []
    assert linkstate.device_exists("enp3s0f0_7")
    os_vif.unplug(vif, instance_info.InstanceInfo(uuid=""))


def test_tap_has_ipv6_off(ovs_plugin, ovs) -> None:
    vif = vifs.ovs_vif(3)
    ovs_plugin.plug(vif, INSTANCE)
    assert linkstate.read_sysctl(vif.vif_name, "ipv6", "disable_ipv6") == 1
    assert ovs_plugin.check(vif, INSTANCE).ok
    ovs_plugin.unplug(vif, INSTANCE)


def test_hybrid_qbr_and_veth_as_5x_made_them(ovs_plugin, ovs) -> None:
    vif = vifs.hybrid_vif(4)
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    ovs_plugin.plug(vif, INSTANCE)
    data = _bridge_data(qbr)
    assert data["IFLA_BR_AGEING_TIME"] == 0
    assert data["IFLA_BR_MCAST_SNOOPING"] == 0
    assert data["IFLA_BR_STP_STATE"] == 0
    assert data["IFLA_BR_FORWARD_DELAY"] == 0
    assert linkstate.read_sysctl(qbr, "ipv4", "arp_announce") == 2
    assert linkstate.read_sysctl(qbr, "ipv4", "arp_ignore") == 1
    assert _promiscuous(qvb) and _promiscuous(qvo)
    assert ovs_plugin.check(vif, INSTANCE).ok
    ovs_plugin.unplug(vif, INSTANCE)
    assert not {qbr, qvb, qvo} & _links()


def test_unplug_as_plain_after_a_hybrid_plug(ovs_plugin, ovs) -> None:
    # Cold migration hybrid -> plain: the port was plugged as a VIFBridge,
    # the unplug gets the VIFOpenVSwitch of the new host.
    hybrid = vifs.hybrid_vif(5)
    plain = vifs.ovs_vif(5)
    qbr, qvb, qvo = naming.hybrid_names(hybrid.id)
    ovs_plugin.plug(hybrid, INSTANCE)
    ovs_plugin.unplug(plain, INSTANCE)
    assert not {qbr, qvb, qvo, plain.vif_name} & _links()
    assert ovsdb_rows.bridge_ports(ovs, "br-int") == ["br-int"]


def test_hybrid_unplug_with_the_guests_tap_still_on_the_qbr(
    ovs_plugin, ovs
) -> None:
    vif = vifs.hybrid_vif(6)
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    ovs_plugin.plug(vif, INSTANCE)
    # The hypervisor's tap, on the qbr still: not os_vif's.
    with IPRoute() as ipr:
        ipr.link("add", ifname=vif.vif_name, kind="veth", peer="guest6")
        tap = ipr.link_lookup(ifname=vif.vif_name)[0]
        ipr.link("set", index=tap, master=ipr.link_lookup(ifname=qbr)[0])
    ovs_plugin.unplug(vif, INSTANCE)
    # The bridge is gone (as with os-vif 5.3.0), the tap detached, kept.
    assert not {qbr, qvb, qvo} & _links()
    tap_device = linkstate.get_device(vif.vif_name)
    assert tap_device is not None and tap_device.master is None


def test_hybrid_unplug_keeps_a_qbr_another_device_is_on(
    ovs_plugin, ovs
) -> None:
    vif = vifs.hybrid_vif(8)
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    ovs_plugin.plug(vif, INSTANCE)
    with IPRoute() as ipr:
        ipr.link("add", ifname="other8", kind="veth", peer="other8p")
        ipr.link(
            "set",
            index=ipr.link_lookup(ifname="other8")[0],
            master=ipr.link_lookup(ifname=qbr)[0],
        )
    ovs_plugin.unplug(vif, INSTANCE)
    assert linkstate.get_device("other8").master == qbr
    assert not {qvb, qvo} & _links()


def test_trunk_port_and_bridge_without_create_port(ovs_plugin, ovs) -> None:
    port = vifs.ovs_vif(9, bridge="tbr-9")
    ovs_plugin.plug(port, INSTANCE)
    iface = ovsdb_rows.row(ovs, "Interface", port.vif_name)
    assert iface["external_ids"]["bridge_name"] == "tbr-9"
    ovs_plugin.unplug(port, INSTANCE)
    assert "tbr-9" not in ovs.bridges()
    # Without create_port the trunk bridge is made all the same: the
    # hypervisor attaches its tap to it.
    libvirt_port = vifs.ovs_vif(10, bridge="tbr-10", create_port=False)
    ovs_plugin.plug(libvirt_port, INSTANCE)
    assert ovsdb_rows.row(ovs, "Bridge", "tbr-10")["datapath_type"] == (
        "netdev"
    )
    assert ovsdb_rows.bridge_ports(ovs, "tbr-10") == ["tbr-10"]
    ovs_plugin.unplug(libvirt_port, INSTANCE)
    assert "tbr-10" not in ovs.bridges()


def test_vhostuser_without_datapath_makes_a_netdev_bridge(
    ovs_plugin, ovs, tmp_path
) -> None:
    vif = vifs.vhostuser_vif(11, path=str(tmp_path / "v.sock"))
    vif.port_profile.datapath_type = None
    ovs_plugin.plug(vif, INSTANCE)
    assert ovsdb_rows.row(ovs, "Bridge", "br-int")["datapath_type"] == (
        "netdev"
    )
    ovs_plugin.unplug(vif, INSTANCE)


def test_a_vif_naming_no_datapath_leaves_a_bridges_type(
    ovs_plugin, ovs
) -> None:
    vif = vifs.ovs_vif(12)
    vif.port_profile.datapath_type = None
    ovs_plugin.plug(vif, INSTANCE)
    # Made for it: the kernel's, named as os-vif 5.3.0 names it.
    assert ovsdb_rows.row(ovs, "Bridge", "br-int")["datapath_type"] == (
        "system"
    )
    ovs_plugin.unplug(vif, INSTANCE)
    ovs.vsctl("set", "Bridge", "br-int", "datapath_type=netdev")
    ovs_plugin.plug(vif, INSTANCE)
    assert ovsdb_rows.row(ovs, "Bridge", "br-int")["datapath_type"] == (
        "netdev"
    )
    ovs_plugin.unplug(vif, INSTANCE)


def _kernel_vif(n: int) -> Any:
    vif = vifs.ovs_vif(n, create_tap=False)
    vif.port_profile.datapath_type = "system"
    return vif


def test_qos_rows_as_530_names_them(ovs_plugin, ovs) -> None:
    vif = _kernel_vif(13)
    ovs_plugin.plug(vif, INSTANCE)
    (qos,) = ovsdb_rows.rows(ovs, "QoS")
    assert qos["external_ids"] == {
        "id": model.qos_id(vif.vif_name),
        "_type": "linux-noop",
    }
    assert ovsdb_rows.row(ovs, "Port", vif.vif_name)["qos"] == qos["_uuid"]
    # A row left over (its port removed by hand) is made again, not kept.
    ovs.vsctl("del-port", vif.vif_name)
    ovs_plugin.plug(vif, INSTANCE)
    (again,) = ovsdb_rows.rows(ovs, "QoS")
    assert again["_uuid"] != qos["_uuid"]
    # ...and a row whose port is gone already goes with the unplug.
    ovs.vsctl("del-port", vif.vif_name)
    ovs_plugin.unplug(vif, INSTANCE)
    assert ovsdb_rows.rows(ovs, "QoS") == []


def test_qos_rows_530_made_are_deleted_on_upgrade(
    os_vif_530, ovs_plugin, ovs: OvsServer
) -> None:
    vif = _kernel_vif(14)
    assert ovs.netns is not None
    os_vif_530.plug(
        [vif], INSTANCE, netns=ovs.netns, ovsdb_connection=ovs.connection
    )
    (qos,) = ovsdb_rows.rows(ovs, "QoS")
    assert qos["external_ids"]["id"] == model.qos_id(vif.vif_name)
    os_vif.initialize()
    os_vif.unplug(vif, INSTANCE)
    assert ovsdb_rows.rows(ovs, "QoS") == []
    assert ovsdb_rows.bridge_ports(ovs, "br-int") == ["br-int"]


def test_530_deletes_the_qos_rows_we_made(
    os_vif_530, ovs_plugin, ovs: OvsServer
) -> None:
    vif = _kernel_vif(15)
    assert ovs.netns is not None
    os_vif.initialize()
    os_vif.plug(vif, INSTANCE)
    assert len(ovsdb_rows.rows(ovs, "QoS")) == 1
    os_vif_530.unplug(
        [vif], INSTANCE, netns=ovs.netns, ovsdb_connection=ovs.connection
    )
    assert ovsdb_rows.rows(ovs, "QoS") == []
    assert ovsdb_rows.bridge_ports(ovs, "br-int") == ["br-int"]
