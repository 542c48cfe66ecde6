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
    assert port.mtu_request == 1450
    assert (port.tag, port.vlan_mode, port.trunks) == (None, None, ())
    assert port.qos_type is None  # netdev datapath


def test_without_create_port_only_the_tap():
    vif = vifs.ovs_vif()
    vif.port_profile.create_port = False
    wanted = plug(vif)
    assert wanted.ovsdb == []
    assert [s.NAME for s in wanted.kernel] == ["ensure_tap"]


def test_network_mtu_falls_back_to_the_option():
    wanted = plug(vifs.ovs_vif(mtu=None), network_device_mtu=9000)
    assert ports(wanted)[0].mtu_request == 9000
    wanted = plug(vifs.ovs_vif(mtu=0), network_device_mtu=9000)
    assert ports(wanted)[0].mtu_request == 9000


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


def test_trunk_bridge_removed_if_unused_on_unplug():
    (removal,) = removals(unplug(vifs.ovs_vif(bridge="tbr-x")))
    assert removal.get("remove_bridge_if_unused")
    (removal,) = removals(unplug(vifs.ovs_vif()))
    assert not removal.get("remove_bridge_if_unused")


def test_unplug_removes_only_this_vifs_ports():
    vif = vifs.ovs_vif()
    wanted = unplug(vif)
    assert wanted.ovsdb_first
    (removal,) = removals(wanted)
    assert removal.get("iface_id") == vif.port_profile.interface_id
    assert removal.get("mac") == vif.address
    assert wanted.kernel == [
        plan.devices.DeleteDevice(name=vif.vif_name, kind="tun", vif_id=vif.id)
    ]


def test_per_port_bridge():
    vif = vifs.ovs_vif()
    wanted = plug(vif, per_port_bridge=True)
    own = naming.per_port_bridge(vif.id)
    own_patch, int_patch = naming.per_port_patches(vif.id)
    assert [b.name for b in bridges(wanted)] == ["br-int", own]
    by_name = {p.name: p for p in ports(wanted)}
    assert by_name[vif.vif_name].bridge == own
    assert by_name[vif.vif_name].external_ids == {}
    assert by_name[own_patch].options == {"peer": int_patch}
    assert by_name[int_patch].bridge == "br-int"
    assert by_name[int_patch].interface_type == "patch"
    assert by_name[int_patch].external_ids["iface-id"] == vif.id
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
            "ensure_veth",
            {
                "name": qvb,
                "peer": qvo,
                "mtu": 1450,
                "up": True,
                "master": qbr,
                "vif_id": vif.id,
            },
        ),
    ]
    assert [p.name for p in ports(wanted)] == [qvo]
    undo = unplug(vif)
    assert [r.device for r in removals(undo)] == [qvo]
    assert [s.device for s in undo.kernel] == [qvb, qbr]


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
    layout = fake_sysfs.connectx5_switchdev(tmp_path)
    fvf = layout.vf(0, 3)
    vif = vifs.vhostuser_vif()
    vif.port_profile = vifs.representor_vif(fvf.address).port_profile
    discovery = sysfs_discovery.SwitchdevDiscovery(layout.root)
    (port,) = ports(discovered(vif, discovery))
    assert port.name == dpdk_representor.port_name(vif.id)
    assert port.interface_type == "dpdk"
    assert port.options == {"dpdk-devargs": "0000:03:00.0,representor=[3]"}


def test_host_device_representor(tmp_path):
    layout = fake_sysfs.connectx5_switchdev(tmp_path)
    fvf = layout.vf(1, 0)
    discovery = sysfs_discovery.SwitchdevDiscovery(layout.root)
    vif = vifs.representor_vif(fvf.address)
    wanted = discovered(vif, discovery)
    assert [p.name for p in ports(wanted)] == [fvf.representor]
    assert wanted.kernel[0].arguments == {
        "name": fvf.representor,
        "mtu": 1400,
        "up": True,
        "role": "representor",
    }


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
    assert [len(p.kernel) for p in plans] == [1, 1, 1, 3]
    assert {b for p in plans for b in bridges(p)} == {
        model.Bridge("br-int", "netdev")
    }
    assert sum(len(ports(p)) for p in plans) == 4
