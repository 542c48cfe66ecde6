"""Plans of the ovs plugin: what a plug and an unplug change, as values.

These need no host: they check the decisions (names, columns, isolation,
trunk and per-port bridges, QoS, vhost-user modes, bad input) that the
functional tests then check on a real switch.
"""

from __future__ import annotations

import types

import pytest

from os_vif import exception
from os_vif.internal import dpdk_representor
from os_vif.internal import sysfs as sysfs_discovery
from os_vif.internal.ovsdb import model
from os_vif.plugins.ovs import naming, options, plan
from tests import fake_sysfs
from tests import ovs_vifs as vifs

INSTANCE = vifs.INSTANCE


def config(**overrides):
    values = {opt.name: opt.default for opt in options.OPTS}
    values.update(overrides)
    return types.SimpleNamespace(**values)


NO_SYSFS = sysfs_discovery.SwitchdevDiscovery("/nonexistent")


def plug(vif, **conf):
    return plan.plug_plan(vif, INSTANCE, config(**conf), NO_SYSFS)


def unplug(vif, **conf):
    return plan.unplug_plan(vif, INSTANCE, config(**conf), NO_SYSFS)


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
    assert tap.operation == "ensure_tap"
    assert tap.arguments == {
        "name": vif.vif_name,
        "multiqueue": True,
        "mtu": 1450,
        "mac": vif.address,
        "up": True,
    }
    assert wanted.created == [vif.vif_name]
    assert wanted.bridges == [model.Bridge("br-int", "netdev")]
    (port,) = wanted.ports
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
    assert wanted.ports == [] and wanted.bridges == []
    assert [s.operation for s in wanted.kernel] == ["ensure_tap"]


def test_network_mtu_falls_back_to_the_option():
    wanted = plug(vifs.ovs_vif(mtu=None), network_device_mtu=9000)
    assert wanted.ports[0].mtu_request == 9000


@pytest.mark.parametrize("datapath", ["system", None])
def test_qos_on_kernel_datapath_only(datapath):
    vif = vifs.ovs_vif()
    vif.port_profile.datapath_type = datapath
    assert plug(vif).ports[0].qos_type == "linux-noop"
    assert plug(vif, default_qos_type="").ports[0].qos_type is None


def test_isolation_but_not_on_trunk_bridges():
    port = plug(vifs.ovs_vif(), isolate_vif=True).ports[0]
    assert (port.tag, port.vlan_mode, port.trunks) == (4095, "trunk", (4095,))
    trunk = plug(vifs.ovs_vif(bridge="tbr-x"), isolate_vif=True).ports[0]
    assert trunk.tag is None and trunk.trunks == ()


def test_trunk_bridge_removed_if_unused_on_unplug():
    (removal,) = unplug(vifs.ovs_vif(bridge="tbr-x")).removals
    assert removal.remove_bridge_if_unused
    (removal,) = unplug(vifs.ovs_vif()).removals
    assert not removal.remove_bridge_if_unused


def test_per_port_bridge():
    vif = vifs.ovs_vif()
    wanted = plug(vif, per_port_bridge=True)
    own = naming.per_port_bridge(vif.id)
    own_patch, int_patch = naming.per_port_patches(vif.id)
    assert [b.name for b in wanted.bridges] == ["br-int", own]
    by_name = {p.name: p for p in wanted.ports}
    assert by_name[vif.vif_name].bridge == own
    assert by_name[vif.vif_name].external_ids == {}
    assert by_name[own_patch].options == {"peer": int_patch}
    assert by_name[int_patch].bridge == "br-int"
    assert by_name[int_patch].interface_type == "patch"
    assert by_name[int_patch].external_ids["iface-id"] == vif.id
    removals = unplug(vif, per_port_bridge=True).removals
    assert {(r.name, r.remove_bridge_if_unused) for r in removals} == {
        (vif.vif_name, True),
        (int_patch, False),
    }


def test_hybrid():
    vif = vifs.hybrid_vif()
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    wanted = plug(vif)
    assert [(s.operation, s.arguments) for s in wanted.kernel] == [
        (
            "ensure_bridge",
            {"name": qbr, "mtu": 1450, "up": True, "disable_ipv6": True},
        ),
        (
            "set_sysctl",
            {"name": qbr, "family": "ipv4", "key": "arp_ignore", "value": 1},
        ),
        (
            "ensure_veth",
            {"name": qvb, "peer": qvo, "mtu": 1450, "up": True, "master": qbr},
        ),
    ]
    assert wanted.created == [qvb, qbr]
    assert [p.name for p in wanted.ports] == [qvo]
    undo = unplug(vif)
    assert [r.name for r in undo.removals] == [qvo]
    assert [s.arguments["name"] for s in undo.kernel] == [qvb, qbr]


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
    (port,) = plug(vif).ports
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
    wanted = plan.plug_plan(vif, INSTANCE, config(), discovery)
    (port,) = wanted.ports
    assert port.name == dpdk_representor.port_name(vif.id)
    assert port.interface_type == "dpdk"
    assert port.options == {"dpdk-devargs": "0000:03:00.0,representor=[3]"}


def test_host_device_representor(tmp_path):
    layout = fake_sysfs.connectx5_switchdev(tmp_path)
    fvf = layout.vf(1, 0)
    discovery = sysfs_discovery.SwitchdevDiscovery(layout.root)
    vif = vifs.representor_vif(fvf.address)
    wanted = plan.plug_plan(vif, INSTANCE, config(), discovery)
    assert [p.name for p in wanted.ports] == [fvf.representor]
    assert wanted.kernel[0].arguments == {
        "name": fvf.representor,
        "mtu": 1400,
        "up": True,
        "nomaster": False,
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


def test_vhostuser_server_mode_needs_a_path():
    vif = vifs.vhostuser_vif(mode="server", path="")
    with pytest.raises(exception.InvalidArgument) as caught:
        plug(vif)
    assert caught.value.kwargs["field"] == "vif.path"


def test_plans_merge_into_one_for_a_bulk_plug():
    plans = [plug(vifs.ovs_vif(n)) for n in range(3)]
    plans.append(plug(vifs.hybrid_vif(9)))
    merged = plan.merge_plug_plans(plans)
    assert merged.bridges == [model.Bridge("br-int", "netdev")]
    assert len(merged.ports) == 4
    assert [s.operation for s in merged.kernel][:3] == ["ensure_tap"] * 3
    assert merged.created == [n for p in plans for n in p.created]
