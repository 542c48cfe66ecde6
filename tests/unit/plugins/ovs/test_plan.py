"""Plans of the ovs plugin: what a plug and an unplug change, as values.

These need no host: they check the decisions (names, columns, isolation,
trunk and per-port bridges, QoS, vhost-user modes, bad input) that the
functional tests then check on a real switch.
"""

from __future__ import annotations

import types

import pytest

from os_vif import exception
from os_vif.internal.ovsdb import model
from os_vif.internal.ovsdb import operations as ovs
from os_vif.internal.unprivileged import dpdk_representor
from os_vif.internal.unprivileged import sysfs as sysfs_discovery
from os_vif.objects import network
from os_vif.objects import vif as vif_objects
from os_vif.plugins.ovs import naming, options, plan
from os_vif.sandbox import vifs
from tests import fake_sysfs

INSTANCE = vifs.INSTANCE


def config(**overrides):
    values = {opt.name: opt.default for opt in options.OPTS}
    values.update(overrides)
    return types.SimpleNamespace(**values)


NO_SYSFS = sysfs_discovery.SwitchdevDiscovery("/nonexistent")


def plug(vif, **conf):
    return plan.plug_plan(vif, INSTANCE, config(**conf), plan.Discovered())


def unplug(vif, **conf):
    return plan.unplug_plan(vif, INSTANCE, config(**conf), plan.Discovered())


def discovered(vif, discovery):
    return plan.plug_plan(
        vif, INSTANCE, config(), plan.discover(vif, discovery)
    )


def ports(wanted):
    """The ports a plan ensures, as model values."""
    return [
        s.port_model()
        for s in wanted.ovsdb
        if isinstance(s, ovs.EnsureOvsPort)
    ]


def bridges(wanted):
    return [
        s.bridge_model()
        for s in wanted.ovsdb
        if isinstance(s, ovs.EnsureOvsBridge)
    ]


def removals(wanted):
    return [s for s in wanted.ovsdb if isinstance(s, ovs.RemoveOvsPort)]


def test_options_match_os_vif_5():
    # Names, types and defaults as os-vif 5.3.0 declares them (checked
    # by running it); nova.conf files rely on them.
    got = {o.name: (type(o).__name__, o.default) for o in options.OPTS}
    assert got == {
        "network_device_mtu": ("IntOpt", 1500),
        "ovs_vsctl_timeout": ("IntOpt", 120),
        "ovsdb_connection": ("StrOpt", "tcp:127.0.0.1:6640"),
        "ovsdb_interface": ("StrOpt", "native"),
        "isolate_vif": ("BoolOpt", False),
        "per_port_bridge": ("BoolOpt", False),
        "default_qos_type": ("StrOpt", "linux-noop"),
        # Not in 5.x: ours, in every in-tree plugin's group.
        "privsep_timeout": ("IntOpt", 60),
        # Not in 5.x: the files of ssl: connections (unset by default).
        "ssl_key_file": ("StrOpt", None),
        "ssl_cert_file": ("StrOpt", None),
        "ssl_ca_cert_file": ("StrOpt", None),
    }
    deprecated = {
        o.name: [(d.group, d.name) for d in o.deprecated_opts]
        for o in options.OPTS
        if o.deprecated_opts
    }
    assert deprecated == {
        "network_device_mtu": [("DEFAULT", None)],
        "ovs_vsctl_timeout": [("DEFAULT", None)],
    }


def test_ovs_vif_with_tap():
    vif = vifs.ovs_vif(multiqueue=True)
    wanted = plug(vif)
    (tap,) = wanted.kernel
    assert tap.NAME == "ensure_tap"
    assert tap.arguments == {
        "name": vif.vif_name,
        "multiqueue": True,
        "mtu": 1450,
        "mac": vif.address,
        "up": True,
        # Off before the tap comes up, as os-vif 5.3.0 (guest DAD).
        "disable_ipv6": True,
        # What the daemon's ownership rules know the VIF by.
        "vif_id": vif.id,
    }
    assert bridges(wanted) == [model.Bridge("br-int", "netdev")]
    (port,) = ports(wanted)
    assert port.name == vif.vif_name and port.bridge == "br-int"
    assert port.interface_type == ""
    assert port.external_ids == {
        "iface-id": vif.port_profile.interface_id,
        "iface-status": "active",
        "attached-mac": vif.address,
        "vm-uuid": INSTANCE.uuid,
    }
    # The tap's MTU is set through netlink; mtu_request only for
    # vhost-user ports (os-vif 5.3.0).
    assert port.mtu_request is None
    assert (port.tag, port.vlan_mode, port.trunks) == (None, None, ())
    assert port.qos_type is None  # netdev datapath


def test_without_create_port_the_bridge_and_the_tap():
    # os-vif 5.x ensures the VIF's bridge before it looks at create_port
    # (a trunk's tbr- bridge, which the hypervisor attaches the tap to).
    vif = vifs.ovs_vif(bridge="tbr-x")
    vif.port_profile.create_port = False
    wanted = plug(vif)
    assert bridges(wanted) == [model.Bridge("tbr-x", "netdev")]
    assert ports(wanted) == []
    assert [s.NAME for s in wanted.kernel] == ["ensure_tap"]


def test_network_mtu_falls_back_to_the_option():
    vif = vifs.ovs_vif(mtu=None, create_tap=False)
    wanted = plug(vif, network_device_mtu=9000)
    # The device, if there already, gets it through netlink.
    assert wanted.kernel == [
        plan.kernel.SetLink(
            name=vif.vif_name, mtu=9000, role="hypervisor", optional=True
        )
    ]
    wanted = plug(vifs.ovs_vif(mtu=0), network_device_mtu=9000)
    assert wanted.kernel[0].get("mtu") == 9000


def test_a_vif_naming_no_datapath_makes_a_kernel_bridge():
    vif = vifs.ovs_vif()
    vif.port_profile.datapath_type = None
    (bridge,) = [s for s in plug(vif).ovsdb if s.NAME == "ovs_ensure_bridge"]
    # Only for a bridge being made: an existing one keeps its type.
    assert bridge.arguments == {
        "name": "br-int",
        "default_datapath_type": "system",
    }
    vhu = vifs.vhostuser_vif()
    vhu.port_profile.datapath_type = None
    (bridge,) = [s for s in plug(vhu).ovsdb if s.NAME == "ovs_ensure_bridge"]
    assert bridge.get("default_datapath_type") == "netdev"
    assert ports(plug(vhu))[0].mtu_request == 1500


@pytest.mark.parametrize("datapath", ["system", None])
def test_qos_on_kernel_datapath_only(datapath):
    vif = vifs.ovs_vif()
    vif.port_profile.datapath_type = datapath
    assert ports(plug(vif))[0].qos_type == "linux-noop"
    assert ports(plug(vif, default_qos_type=""))[0].qos_type is None


def test_isolation_but_not_on_trunk_bridges():
    port = ports(plug(vifs.ovs_vif(), isolate_vif=True))[0]
    assert (port.tag, port.vlan_mode, port.trunks) == (4095, "trunk", (4095,))
    trunk = ports(plug(vifs.ovs_vif(bridge="tbr-x"), isolate_vif=True))[0]
    assert trunk.tag is None and trunk.trunks == ()
    # Neutron's trunk handler reads the trunk bridge's name from its ports.
    assert trunk.external_ids["bridge_name"] == "tbr-x"
    assert "bridge_name" not in port.external_ids


def test_trunk_bridge_removed_if_unused_on_unplug():
    (removal,) = removals(unplug(vifs.ovs_vif(bridge="tbr-x")))
    assert removal.get("remove_bridge_if_unused")
    (removal,) = removals(unplug(vifs.ovs_vif()))
    assert not removal.get("remove_bridge_if_unused")


def test_unplug_removes_only_this_vifs_ports():
    vif = vifs.ovs_vif()
    wanted = unplug(vif)
    (removal,) = removals(wanted)
    assert removal.get("iface_id") == vif.port_profile.interface_id
    assert removal.get("mac") == vif.address
    assert wanted.kernel == [
        plan.kernel.DeleteDevice(name=vif.vif_name, kind="tun", vif_id=vif.id)
    ]
    # Without create_port too: a port of the VIF's left there goes (5.x).
    vif.port_profile.create_port = False
    assert [r.device for r in removals(unplug(vif))] == [vif.vif_name]


def test_unplug_of_a_vif_plugged_hybrid_before_a_cold_migration():
    vif = vifs.ovs_vif()
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    wanted = plan.unplug_plan(
        vif, INSTANCE, config(), plan.Discovered(hybrid_bridge=True)
    )
    assert [r.device for r in removals(wanted)] == [qvo, vif.vif_name]
    assert [(s.NAME, s.device) for s in wanted.kernel] == [
        ("delete_device", qvb),
        ("remove_bridge_if_unused", qbr),
        ("delete_device", vif.vif_name),
    ]


def test_neutron_smart_nic_vif_without_an_id():
    # As neutron's OVS agent builds it (ovs_neutron_agent._get_vif_object).
    profile = vif_objects.VIFPortProfileOpenVSwitch(
        interface_id=vifs.vif_id(5), create_port=True
    )
    vif = vif_objects.VIFOpenVSwitch(
        vif_name="enp3s0f0_5",
        plugin="ovs",
        port_profile=profile,
        network=network.Network(bridge="br-int"),
        address=vifs.mac(5),
    )
    wanted = plug(vif)
    (port,) = ports(wanted)
    assert port.name == "enp3s0f0_5"
    assert port.external_ids["iface-id"] == vifs.vif_id(5)
    assert port.qos_type == "linux-noop"  # no datapath_type: the kernel's
    assert wanted.kernel == [
        plan.kernel.SetLink(
            name="enp3s0f0_5", mtu=1500, role="representor", optional=True
        )
    ]
    undo = unplug(vif)
    assert [r.device for r in removals(undo)] == ["enp3s0f0_5"]
    assert undo.kernel == []
    assert plan.discover(vif, NO_SYSFS, unplug=True) == plan.Discovered()


def test_per_port_bridge():
    vif = vifs.ovs_vif()
    wanted = plug(vif, per_port_bridge=True)
    own = naming.per_port_bridge(vif.id)
    own_patch, int_patch = naming.per_port_patches(vif.id)
    assert [b.name for b in bridges(wanted)] == ["br-int", own]
    by_name = {p.name: p for p in ports(wanted)}
    assert by_name[vif.vif_name].bridge == own
    assert by_name[vif.vif_name].external_ids == {}
    assert by_name[int_patch].qos_type is None
    assert by_name[own_patch].options == {"peer": int_patch}
    assert by_name[int_patch].bridge == "br-int"
    assert by_name[int_patch].interface_type == "patch"
    assert by_name[int_patch].external_ids["iface-id"] == vif.id
    # Kernel datapath: the QoS row and the isolation on the device's own
    # port, the dead VLAN on the patch too (os-vif 5.3.0).
    vif.port_profile.datapath_type = "system"
    by_name = {
        p.name: p
        for p in ports(plug(vif, per_port_bridge=True, isolate_vif=True))
    }
    assert by_name[vif.vif_name].qos_type == "linux-noop"
    assert by_name[vif.vif_name].tag == 4095
    assert by_name[int_patch].qos_type is None
    assert (by_name[int_patch].tag, by_name[int_patch].trunks) == (4095, ())
    # ...whatever create_port says.
    vif.port_profile.create_port = False
    assert len(ports(plug(vif, per_port_bridge=True))) == 3
    gone = removals(unplug(vif, per_port_bridge=True))
    assert {
        (r.device, r.get("remove_bridge_if_unused", False)) for r in gone
    } == {
        (vif.vif_name, True),
        (int_patch, False),
    }


def test_hybrid():
    vif = vifs.hybrid_vif()
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    wanted = plug(vif)
    assert [(s.NAME, s.arguments) for s in wanted.kernel] == [
        (
            "ensure_bridge",
            {
                "name": qbr,
                "mtu": 1450,
                "up": True,
                "disable_ipv6": True,
                # As os-vif 5.x made its qbr.
                "ageing": 0,
                "multicast_snooping": False,
                "vif_id": vif.id,
            },
        ),
        (
            "set_sysctl",
            {
                "name": qbr,
                "family": "ipv4",
                "key": "arp_ignore",
                "value": 1,
                "vif_id": vif.id,
            },
        ),
        (
            "set_sysctl",
            {
                "name": qbr,
                "family": "ipv4",
                "key": "arp_announce",
                "value": 2,
                "vif_id": vif.id,
            },
        ),
        (
            "ensure_veth",
            {
                "name": qvb,
                "peer": qvo,
                "mtu": 1450,
                "up": True,
                "master": qbr,
                "promisc": True,
                "vif_id": vif.id,
            },
        ),
    ]
    assert [p.name for p in ports(wanted)] == [qvo]
    undo = unplug(vif)
    assert [r.device for r in removals(undo)] == [qvo]
    assert [s.device for s in undo.kernel] == [qvb, qbr]
    # The VIF's own tap still on the qbr does not keep it (5.3.0).
    assert undo.kernel[1].get("uplinks") == [vif.vif_name]


@pytest.mark.parametrize("make", [vifs.hybrid_vif, vifs.vhostuser_vif])
def test_create_tap_only_for_vif_openvswitch(make):
    vif = make()
    vif.port_profile.create_tap = True
    with pytest.raises(exception.TapCreationNotSupported) as caught:
        plug(vif)
    assert isinstance(caught.value, exception.InvalidArgument)
    assert caught.value.kwargs["field"] == "vif.port_profile.create_tap"


def test_names_are_cut_to_fourteen():
    vid = "0123456789abcdef-0000"
    assert naming.hybrid_names(vid) == (
        "qbr0123456789a",
        "qvb0123456789a",
        "qvo0123456789a",
    )
    assert naming.vhostuser_port(vid) == "vhu0123456789a"
    assert naming.per_port_bridge(vid) == "pb0123456789ab"


@pytest.mark.parametrize(
    ("mode", "iface_type", "options_"),
    [
        ("server", "dpdkvhostuserclient", {"vhost-server-path": "/v.sock"}),
        ("client", "dpdkvhostuser", {}),
    ],
)
def test_vhostuser(mode, iface_type, options_):
    vif = vifs.vhostuser_vif(mode=mode, path="/v.sock")
    (port,) = ports(plug(vif))
    assert port.name == naming.vhostuser_port(vif.id)
    assert port.interface_type == iface_type
    assert port.options == options_
    assert plug(vif).kernel == []


def test_dpdk_representor(tmp_path):
    # os-vif 5.3.0: a VIFHostDevice on a userspace datapath is a DPDK port.
    layout = fake_sysfs.connectx5_switchdev(tmp_path)
    fvf = layout.vf(0, 3)
    vif = vifs.representor_vif(fvf.address)
    assert vif.port_profile.datapath_type == "netdev"
    discovery = sysfs_discovery.SwitchdevDiscovery(layout.root)
    wanted = discovered(vif, discovery)
    (port,) = ports(wanted)
    assert port.name == dpdk_representor.port_name(vif.id)
    assert port.interface_type == "dpdk"
    assert port.options == {"dpdk-devargs": "0000:03:00.0,representor=[3]"}
    assert port.mtu_request is None and wanted.kernel == []


def test_vhostuser_with_a_representor_profile_is_a_vhostuser_port(tmp_path):
    layout = fake_sysfs.connectx5_switchdev(tmp_path)
    vif = vifs.vhostuser_vif()
    vif.port_profile = vifs.representor_vif(
        layout.vf(0, 3).address
    ).port_profile
    (port,) = ports(plug(vif))
    assert port.name == naming.vhostuser_port(vif.id)


def test_host_device_representor(tmp_path):
    layout = fake_sysfs.connectx5_switchdev(tmp_path)
    fvf = layout.vf(1, 0)
    discovery = sysfs_discovery.SwitchdevDiscovery(layout.root)
    vif = vifs.representor_vif(fvf.address)
    vif.port_profile.datapath_type = "system"
    found = plan.discover(vif, discovery)
    wanted = plan.plug_plan(vif, INSTANCE, config(), found)
    assert [p.name for p in ports(wanted)] == [fvf.representor]
    assert wanted.kernel[0].arguments == {
        "name": fvf.representor,
        "mtu": 1400,
        "up": True,
        "role": "representor",
    }
    # Unplugged: the representor (the NIC's) stays, set down.
    undo = plan.unplug_plan(vif, INSTANCE, config(), found)
    assert [r.device for r in removals(undo)] == [fvf.representor]
    assert undo.kernel == [
        plan.kernel.SetLink(
            name=fvf.representor, up=False, role="representor"
        )
    ]


def test_a_vf_gone_from_sysfs_is_unplugged_by_its_identity():
    vif = vifs.representor_vif("0000:03:00.2")
    # Plug needs the VF; unplug finds it gone and says why.
    with pytest.raises(exception.DeviceDiscoveryFailed):
        plan.discover(vif, NO_SYSFS)
    found = plan.discover(vif, NO_SYSFS, unplug=True)
    assert found.vanished is not None and found.vf is None
    wanted = plan.unplug_plan(vif, INSTANCE, config(), found)
    assert wanted.kernel == []
    assert wanted.ovsdb == [
        ovs.RemoveOvsPortsOfVif(
            name=vif.port_profile.interface_id, mac=vif.address
        )
    ]


def test_host_device_needs_the_representor_profile():
    vif = vifs.representor_vif("0000:03:00.2")
    vif.port_profile = vifs.ovs_vif().port_profile
    with pytest.raises(exception.InvalidArgument) as caught:
        plug(vif)
    assert caught.value.kwargs["field"] == "vif.port_profile"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda v: setattr(v, "vif_name", "x" * 16), "vif.vif_name"),
        (lambda v: setattr(v.network, "bridge", ""), "vif.network.bridge"),
        (lambda v: setattr(v.network, "mtu", 20), "vif.network.mtu"),
        (lambda v: delattr(v, "port_profile"), "vif.port_profile"),
    ],
)
def test_bad_input_names_the_field(change, field):
    vif = vifs.ovs_vif()
    change(vif)
    with pytest.raises(exception.InvalidArgument) as caught:
        plug(vif)
    assert caught.value.kwargs["field"] == field


@pytest.mark.parametrize(
    "change",
    [
        lambda v: setattr(v, "vif_name", "x" * 16),
        lambda v: setattr(v.network, "mtu", 70000),
    ],
)
def test_unplug_is_lenient_where_plug_is_strict(change):
    vif = vifs.ovs_vif()
    change(vif)
    wanted = unplug(vif)
    names = [s.NAME for s in wanted.steps]
    # Found by its identity; a tap name no device can have is not deleted.
    assert "ovs_remove_port" in names or "ovs_remove_ports_of_vif" in names
    assert all(step.device != "x" * 16 for step in wanted.kernel)


def test_vhostuser_server_mode_needs_a_path():
    vif = vifs.vhostuser_vif(mode="server", path="")
    with pytest.raises(exception.InvalidArgument) as caught:
        plug(vif)
    assert caught.value.kwargs["field"] == "vif.path"


def test_plans_of_many_vifs_keep_one_group_each():
    plans = [plug(vifs.ovs_vif(n)) for n in range(3)]
    plans.append(plug(vifs.hybrid_vif(9)))
    assert [len(p.kernel) for p in plans] == [1, 1, 1, 4]
    assert {b for p in plans for b in bridges(p)} == {
        model.Bridge("br-int", "netdev")
    }
    assert sum(len(ports(p)) for p in plans) == 4
