"""The ovs plugin against a real ovsdb-server, ovs-vswitchd and kernel."""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

import pytest
from pyroute2 import IPRoute

from os_vif import exception
from os_vif.internal import linkstate
from os_vif.plugins.ovs import naming
from os_vif.sandbox import vifs
from os_vif.sandbox.ovs import OvsServer
from tests import fake_sysfs
from tests.functional import hung_daemon
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

INSTANCE = vifs.INSTANCE


def _override(conf: Any, name: str, value: Any) -> None:
    conf.config(group="os_vif_ovs", **{name: value})


def _ofport(ovs: OvsServer, name: str, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        iface = ovsdb_rows.row(ovs, "Interface", name)
        ofport = iface["ofport"] if iface else None
        if isinstance(ofport, int) and ofport > 0:
            return ofport
        if time.monotonic() > deadline:
            return -1
        time.sleep(0.05)


def _links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


def _check_vif_interface(ovs: OvsServer, name: str, vif: Any, mtu: int):
    iface = ovsdb_rows.row(ovs, "Interface", name)
    assert iface is not None
    expected = {
        "iface-id": vif.port_profile.interface_id,
        "iface-status": "active",
        "attached-mac": vif.address,
        "vm-uuid": INSTANCE.uuid,
    }
    assert iface["external_ids"] | expected == iface["external_ids"]
    if iface["type"] in ("dpdkvhostuser", "dpdkvhostuserclient"):
        assert iface["mtu_request"] == mtu
    else:
        # The device's MTU is set through netlink, as os-vif 5.3.0 does.
        assert iface["mtu_request"] == []
        device = linkstate.get_device(name)
        assert device is None or device.mtu == mtu
    return iface


# -- VIFOpenVSwitch ---------------------------------------------------------


def test_ovs_vif_with_tap(ovs_plugin, ovs: OvsServer) -> None:
    vif = vifs.ovs_vif(multiqueue=True)
    ovs_plugin.plug(vif, INSTANCE)

    bridge = ovsdb_rows.row(ovs, "Bridge", "br-int")
    assert bridge is not None and bridge["datapath_type"] == "netdev"
    assert ovsdb_rows.port_bridge(ovs, vif.vif_name) == "br-int"
    _check_vif_interface(ovs, vif.vif_name, vif, 1450)
    port = ovsdb_rows.row(ovs, "Port", vif.vif_name)
    assert port["tag"] == [] and port["qos"] == []  # netdev: no QoS row
    tap = linkstate.get_device(vif.vif_name)
    assert tap is not None and tap.kind == "tun"
    assert (tap.mtu, tap.mac, tap.up) == (1450, vif.address, True)
    # ovs-vswitchd opened the tap on the userspace datapath.
    assert _ofport(ovs, vif.vif_name) > 0

    # Re-plug: neither OVSDB nor the kernel is written.
    before = ovsdb_rows.next_cfg(ovs)
    ovs_plugin.plug(vif, INSTANCE)
    assert ovsdb_rows.next_cfg(ovs) == before
    assert linkstate.get_device(vif.vif_name).index == tap.index

    ovs_plugin.unplug(vif, INSTANCE)
    assert ovsdb_rows.row(ovs, "Port", vif.vif_name) is None
    assert not linkstate.device_exists(vif.vif_name)
    # Unplugging again is not an error and writes nothing.
    before = ovsdb_rows.next_cfg(ovs)
    ovs_plugin.unplug(vif, INSTANCE)
    assert ovsdb_rows.next_cfg(ovs) == before


def test_replug_repairs_what_differs(ovs_plugin, ovs: OvsServer) -> None:
    vif = vifs.ovs_vif()
    ovs_plugin.plug(vif, INSTANCE)
    ovs.vsctl("set", "Interface", vif.vif_name, "external_ids:agent=kept")
    with IPRoute() as ipr:
        ipr.link("set", ifname=vif.vif_name, state="down", mtu=1300)
    ovs_plugin.plug(vif, INSTANCE)
    iface = _check_vif_interface(ovs, vif.vif_name, vif, 1450)
    assert iface["external_ids"]["agent"] == "kept"
    assert linkstate.get_device(vif.vif_name).up


def test_port_without_tap_and_default_mtu(ovs_plugin, ovs, conf) -> None:
    _override(conf, "network_device_mtu", 1400)
    vif = vifs.ovs_vif(create_tap=False, mtu=None)
    ovs_plugin.plug(vif, INSTANCE)
    _check_vif_interface(ovs, vif.vif_name, vif, 1400)
    assert not linkstate.device_exists(vif.vif_name)
    ovs_plugin.unplug(vif, INSTANCE)
    assert ovsdb_rows.row(ovs, "Port", vif.vif_name) is None


def test_isolate_vif_dead_vlan_on_creation_only(ovs_plugin, ovs, conf) -> None:
    _override(conf, "isolate_vif", True)
    vif = vifs.ovs_vif()
    ovs_plugin.plug(vif, INSTANCE)
    port = ovsdb_rows.row(ovs, "Port", vif.vif_name)
    assert port["tag"] == 4095 and port["vlan_mode"] == "trunk"
    assert port["trunks"] == 4095 or port["trunks"] == [4095]
    # The agent's tag survives a re-plug.
    ovs.vsctl("set", "Port", vif.vif_name, "tag=12")
    ovs_plugin.plug(vif, INSTANCE)
    assert ovsdb_rows.row(ovs, "Port", vif.vif_name)["tag"] == 12


def test_trunk_bridge_not_isolated_and_removed_when_unused(
    ovs_plugin, ovs, conf
) -> None:
    _override(conf, "isolate_vif", True)
    first, second = (
        vifs.ovs_vif(1, bridge="tbr-a1"),
        vifs.ovs_vif(2, bridge="tbr-a1"),
    )
    ovs_plugin.plug(first, INSTANCE)
    ovs_plugin.plug(second, INSTANCE)
    assert ovsdb_rows.row(ovs, "Port", first.vif_name)["tag"] == []
    # A patch port (neutron's trunk plumbing) does not keep it alive,
    # another VIF does.
    ovs.vsctl(
        "add-port",
        "tbr-a1",
        "tpt-a1",
        "--",
        "set",
        "Interface",
        "tpt-a1",
        "type=patch",
        "options:peer=tpi-a1",
    )
    ovs_plugin.unplug(first, INSTANCE)
    assert "tbr-a1" in ovs.bridges()
    ovs_plugin.unplug(second, INSTANCE)
    assert "tbr-a1" not in ovs.bridges()


def test_per_port_bridge(ovs_plugin, ovs, conf) -> None:
    _override(conf, "per_port_bridge", True)
    vif = vifs.ovs_vif()
    ovs_plugin.plug(vif, INSTANCE)
    own = naming.per_port_bridge(vif.id)
    own_patch, int_patch = naming.per_port_patches(vif.id)
    assert ovsdb_rows.bridge_ports(ovs, own) == sorted(
        [own, own_patch, vif.vif_name]
    )
    assert ovsdb_rows.port_bridge(ovs, int_patch) == "br-int"
    peer = ovsdb_rows.row(ovs, "Interface", int_patch)
    assert peer["type"] == "patch" and peer["options"] == {"peer": own_patch}
    assert peer["external_ids"]["iface-id"] == vif.id
    before = ovsdb_rows.next_cfg(ovs)
    ovs_plugin.plug(vif, INSTANCE)
    assert ovsdb_rows.next_cfg(ovs) == before

    ovs_plugin.unplug(vif, INSTANCE)
    assert ovs.bridges() == ["br-int"]
    assert ovsdb_rows.bridge_ports(ovs, "br-int") == ["br-int"]
    assert not linkstate.device_exists(vif.vif_name)


def test_default_qos_type_on_kernel_datapath(ovs_plugin, ovs) -> None:
    vif = vifs.ovs_vif(create_tap=False)
    vif.port_profile.datapath_type = "system"
    # No openvswitch module here: ovs-vswitchd cannot run the bridge, but
    # the rows are what the plugin owns.
    ovs_plugin.plug(vif, INSTANCE)
    port = ovsdb_rows.row(ovs, "Port", vif.vif_name)
    (qos,) = ovsdb_rows.rows(ovs, "QoS")
    assert port["qos"] == qos["_uuid"] and qos["type"] == "linux-noop"
    ovs_plugin.unplug(vif, INSTANCE)
    assert ovsdb_rows.rows(ovs, "QoS") == []


# -- hybrid VIFBridge -------------------------------------------------------


def test_hybrid_plug(ovs_plugin, ovs: OvsServer) -> None:
    vif = vifs.hybrid_vif()
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    assert qbr == vif.bridge_name
    ovs_plugin.plug(vif, INSTANCE)

    bridge = linkstate.get_device(qbr)
    assert bridge.kind == "bridge" and bridge.up and bridge.mtu == 1450
    assert linkstate.read_sysctl(qbr, "ipv6", "disable_ipv6") == 1
    assert linkstate.read_sysctl(qbr, "ipv4", "arp_ignore") == 1
    for end in (qvb, qvo):
        device = linkstate.get_device(end)
        assert device.kind == "veth" and device.up and device.mtu == 1450
    assert linkstate.get_device(qvb).master == qbr
    assert linkstate.bridge_ports(qbr) == [qvb]
    assert ovsdb_rows.port_bridge(ovs, qvo) == "br-int"
    _check_vif_interface(ovs, qvo, vif, 1450)
    assert _ofport(ovs, qvo) > 0

    before = ovsdb_rows.next_cfg(ovs)
    ovs_plugin.plug(vif, INSTANCE)
    assert ovsdb_rows.next_cfg(ovs) == before

    ovs_plugin.unplug(vif, INSTANCE)
    assert not {qbr, qvb, qvo} & _links()
    assert ovsdb_rows.row(ovs, "Port", qvo) is None
    ovs_plugin.unplug(vif, INSTANCE)


# -- vhost-user -------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "iface_type"),
    [("server", "dpdkvhostuserclient"), ("client", "dpdkvhostuser")],
)
def test_vhostuser_rows(ovs_plugin, ovs, tmp_path, mode, iface_type) -> None:
    path = str(tmp_path / "vhu.sock")
    vif = vifs.vhostuser_vif(mode=mode, path=path)
    name = naming.vhostuser_port(vif.id)
    ovs_plugin.plug(vif, INSTANCE)
    iface = _check_vif_interface(ovs, name, vif, 1500)
    assert iface["type"] == iface_type
    expected = {"vhost-server-path": path} if mode == "server" else {}
    assert iface["options"] == expected
    assert ovsdb_rows.port_bridge(ovs, name) == "br-int"
    # No DPDK in this ovs-vswitchd: it reports why it cannot open it.
    deadline = time.monotonic() + 5
    while not ovsdb_rows.row(ovs, "Interface", name)["error"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    before = ovsdb_rows.next_cfg(ovs)
    ovs_plugin.plug(vif, INSTANCE)
    assert ovsdb_rows.next_cfg(ovs) == before
    ovs_plugin.unplug(vif, INSTANCE)
    assert ovsdb_rows.row(ovs, "Port", name) is None


# -- representors -----------------------------------------------------------


@pytest.fixture
def fake_switchdev(ovs_plugin, tmp_path):
    layout = fake_sysfs.connectx5_switchdev(tmp_path / "sys")
    ovs_plugin.sysfs_root = layout.root
    return layout


def _kernel_representor_vif(ovs: OvsServer, address: str, n: int = 0):
    """A VIFHostDevice on the kernel's datapath (os-vif 5.3.0: the VF's
    representor netdev on the bridge), the bridge made on the userspace
    datapath first (this switch has no kernel datapath): a VIF that names
    no datapath type leaves an existing bridge's alone."""
    if "br-int" not in ovs.bridges():
        ovs.vsctl(
            "add-br",
            "br-int",
            "--",
            "set",
            "Bridge",
            "br-int",
            "datapath_type=netdev",
        )
    vif = vifs.representor_vif(address, n=n)
    vif.port_profile.datapath_type = None
    return vif


def test_host_device_representor(ovs_plugin, ovs, fake_switchdev) -> None:
    fvf = fake_switchdev.vf(0, 1)
    # A veth stands in for the representor netdev sysfs names.
    with IPRoute() as ipr:
        ipr.link("add", ifname=fvf.representor, kind="veth", peer="rep-peer")
    vif = _kernel_representor_vif(ovs, fvf.address)
    ovs_plugin.plug(vif, INSTANCE)
    assert ovsdb_rows.port_bridge(ovs, fvf.representor) == "br-int"
    _check_vif_interface(ovs, fvf.representor, vif, 1400)
    device = linkstate.get_device(fvf.representor)
    assert device.up and device.mtu == 1400
    assert _ofport(ovs, fvf.representor) > 0
    assert ovsdb_rows.row(ovs, "Bridge", "br-int")["datapath_type"] == "netdev"
    ovs_plugin.unplug(vif, INSTANCE)
    assert ovsdb_rows.row(ovs, "Port", fvf.representor) is None
    assert ovsdb_rows.rows(ovs, "QoS") == []
    # Hardware stays, set down as os-vif 5.3.0 leaves it.
    assert not linkstate.get_device(fvf.representor).up


def test_unplug_after_the_representor_left_sysfs(
    ovs_plugin, ovs, fake_switchdev, tmp_path
) -> None:
    fvf = fake_switchdev.vf(0, 2)
    other = fake_switchdev.vf(0, 3)
    with IPRoute() as ipr:
        for n, device in enumerate((fvf.representor, other.representor)):
            ipr.link("add", ifname=device, kind="veth", peer="rep-p%d" % n)
    vif = _kernel_representor_vif(ovs, fvf.address)
    neighbour = _kernel_representor_vif(ovs, other.address, n=1)
    ovs_plugin.plug(vif, INSTANCE)
    ovs_plugin.plug(neighbour, INSTANCE)
    # The driver was reloaded: the VF's PCI device left sysfs, so the
    # representor cannot be found from the VIF any more.
    shutil.rmtree(
        fake_sysfs.FakeSysfs(fake_switchdev.root).device_dir(fvf.address)
    )
    with pytest.raises(exception.DeviceDiscoveryFailed):
        ovs_plugin.plug(vif, INSTANCE)
    ovs_plugin.unplug(vif, INSTANCE)
    assert ovsdb_rows.row(ovs, "Port", fvf.representor) is None
    # Only the port with this VIF's iface-id and MAC went.
    assert ovsdb_rows.port_bridge(ovs, other.representor) == "br-int"
    ovs_plugin.unplug(vif, INSTANCE)  # and again: nothing to do
    ovs_plugin.unplug(neighbour, INSTANCE)
    assert ovsdb_rows.row(ovs, "Port", other.representor) is None


def test_dpdk_representor_rows(ovs_plugin, ovs, fake_switchdev) -> None:
    # os-vif 5.3.0: a VIFHostDevice on a userspace datapath is a DPDK port
    # that opens the VF's representor; no kernel device is looked up.
    fvf = fake_switchdev.vf(1, 2)
    vif = vifs.representor_vif(fvf.address)
    representor_profile = vif.port_profile
    ovs_plugin.plug(vif, INSTANCE)
    (iface,) = [i for i in ovsdb_rows.rows(ovs, "Interface", type="dpdk")]
    assert iface["options"] == {"dpdk-devargs": "0000:03:00.1,representor=[2]"}
    assert iface["external_ids"]["iface-id"] == (
        representor_profile.interface_id
    )
    assert iface["name"] == "vfr" + vif.id[:11]
    ovs_plugin.unplug(vif, INSTANCE)
    assert ovsdb_rows.rows(ovs, "Interface", type="dpdk") == []


def test_representor_of_a_missing_vf(ovs_plugin, ovs, fake_switchdev):
    vif = vifs.representor_vif("0000:09:00.7")
    with pytest.raises(exception.DeviceDiscoveryFailed):
        ovs_plugin.plug(vif, INSTANCE)
    assert ovs.bridges() == []
    ovs_plugin.unplug(vif, INSTANCE)  # gone already: fine


# -- bad input and failures -------------------------------------------------


def test_bad_input_fails_before_any_change(ovs_plugin, ovs) -> None:
    vif = vifs.ovs_vif()
    vif.vif_name = "a-name-far-too-long"
    with pytest.raises(exception.InvalidArgument) as caught:
        ovs_plugin.plug(vif, INSTANCE)
    assert caught.value.kwargs["field"] == "vif.vif_name"
    assert ovs.bridges() == []


def _assert_hybrid_left_nothing(ovs, vif) -> None:
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    assert not {qbr, qvb, qvo} & _links()
    assert ovsdb_rows.row(ovs, "Port", qvo) is None
    assert ovsdb_rows.row(ovs, "Interface", qvo) is None


@pytest.mark.parametrize("blocker", ["qbr", "qvb", "qvo"])
def test_hybrid_kernel_failure_undoes_earlier_steps(
    ovs_plugin, ovs, blocker
) -> None:
    vif = vifs.hybrid_vif()
    names = dict(
        zip(("qbr", "qvb", "qvo"), naming.hybrid_names(vif.id), strict=True)
    )
    # A device of the wrong kind holds the name the step needs.
    with IPRoute() as ipr:
        if blocker == "qbr":
            ipr.link("add", ifname=names[blocker], kind="veth", peer="blk")
        else:
            ipr.link("add", ifname=names[blocker], kind="bridge")
    with pytest.raises(exception.ExceptionBase):
        ovs_plugin.plug(vif, INSTANCE)
    left = {names[k] for k in names if k != blocker} & _links()
    assert left == set()
    # The OVSDB rows, sent at the same time as the kernel steps, are taken
    # back too, including the bridge this plug made.
    assert ovsdb_rows.row(ovs, "Port", names["qvo"]) is None
    assert ovs.bridges() == []


def test_hybrid_ovsdb_refusal_undoes_kernel_steps(ovs_plugin, ovs) -> None:
    vif = vifs.hybrid_vif()
    qvo = naming.hybrid_names(vif.id)[2]
    # An Interface named qvo already belongs to another port: OVSDB
    # refuses a second one (the name index is unique).
    ovsdb_rows.block_interface_name(ovs, qvo)
    with pytest.raises(exception.HostOperationFailed):
        ovs_plugin.plug(vif, INSTANCE)
    qbr, qvb, _ = naming.hybrid_names(vif.id)
    assert not {qbr, qvb, qvo} & _links()
    assert ovsdb_rows.row(ovs, "Port", qvo) is None


def test_ovs_tap_left_nothing_when_ovsdb_is_down(
    ovs_plugin, ovs, conf
) -> None:
    from os_vif.internal.ovsdb import connection

    _override(conf, "ovs_vsctl_timeout", 2)
    connection.close_all()
    ovs_plugin.plug(vifs.ovs_vif(1), INSTANCE)  # connects, then...
    ovs.stop_ovsdb()
    vif = vifs.ovs_vif(2)
    with pytest.raises(exception.ExceptionBase):
        ovs_plugin.plug(vif, INSTANCE)
    assert not linkstate.device_exists(vif.vif_name)
    ovs.start_ovsdb()
    assert ovsdb_rows.row(ovs, "Port", vif.vif_name) is None


def test_privsep_timeout_bounds_a_plug_on_a_hung_daemon(
    ovs_plugin, ovs, conf
) -> None:
    from os_vif.internal.privileged import context

    _override(conf, "privsep_timeout", 2)
    ovs_plugin.plug(vifs.ovs_vif(1), INSTANCE)  # the daemon runs
    vif = vifs.ovs_vif(2)
    with hung_daemon.stopped(context.vif_plug_ovs):
        error, took = hung_daemon.timed_failure(
            lambda: ovs_plugin.plug(vif, INSTANCE)
        )
    assert isinstance(error, exception.HostOperationFailed), error
    assert "within 2" in str(error)
    assert 2 <= took < 2 + 5
    # The kernel call failed: no tap, and no port sent to OVSDB.
    assert not linkstate.device_exists(vif.vif_name)
    assert ovsdb_rows.row(ovs, "Port", vif.vif_name) is None
    ovs_plugin.plug(vif, INSTANCE)
    assert ovsdb_rows.port_bridge(ovs, vif.vif_name) == "br-int"


def test_ovsdb_restart_between_two_plugs(ovs_plugin, ovs) -> None:
    from os_vif.internal.ovsdb import connection

    first, second = vifs.hybrid_vif(1), vifs.ovs_vif(2)
    ovs_plugin.plug(first, INSTANCE)
    api = connection.get_api(ovs.connection, 20)
    ovs.restart_ovsdb()
    ovs_plugin.plug(second, INSTANCE)
    # The same IDL connection reconnected by itself.
    assert connection.get_api(ovs.connection, 20) is api
    assert ovsdb_rows.port_bridge(ovs, second.vif_name) == "br-int"
    assert ovsdb_rows.port_bridge(ovs, naming.hybrid_names(first.id)[2])
    # The rows loaded again are new row objects: the connection's copies
    # of them (Interface columns, bridges' ports) follow.
    for vif in (first, second):
        assert ovs_plugin.check(vif, INSTANCE).ok
    ovs_plugin.unplug(first, INSTANCE)
    ovs_plugin.unplug(second, INSTANCE)
    assert ovsdb_rows.bridge_ports(ovs, "br-int") == ["br-int"]


def test_only_configuration_columns_are_monitored(ovs_plugin, ovs) -> None:
    from os_vif.internal.ovsdb import connection

    vif = vifs.ovs_vif()
    ovs_plugin.plug(vif, INSTANCE)
    api = connection.get_api(ovs.connection, 20)
    interface = api.tables["Interface"]
    assert set(interface.columns) == set(
        connection.MONITORED_COLUMNS["Interface"]
    )
    # ovs-vswitchd fills these in all the time; none of it reaches us.
    assert _ofport(ovs, vif.vif_name) > 0
    row = next(iter(interface.rows.values()))
    for column in ("statistics", "ofport", "link_state", "error"):
        assert not hasattr(row, column)
    ovs_plugin.unplug(vif, INSTANCE)


def test_daemon_runs_in_the_switch_namespace(ovs_plugin, ovs) -> None:
    ovs_plugin.plug(vifs.ovs_vif(), INSTANCE)
    assert (
        os.stat("/proc/thread-self/ns/net").st_ino
        == os.stat("/run/netns/" + ovs.netns).st_ino
    )


def test_merged_plans_plug_many_vifs_in_one_transaction(
    ovs_plugin, ovs
) -> None:
    many = [vifs.ovs_vif(n) for n in range(5)] + [vifs.hybrid_vif(7)]
    plans = [ovs_plugin.plug_plan(vif, INSTANCE) for vif in many]
    before = ovsdb_rows.next_cfg(ovs)
    results = ovs_plugin.host.run_many(plans, ovs_plugin.ovsdb)
    assert [(r.error, r.changed) for r in results] == [(None, True)] * 6
    assert ovsdb_rows.next_cfg(ovs) == before + 1
    names = [v.vif_name for v in many[:5]] + [
        naming.hybrid_names(many[5].id)[2]
    ]
    for name in names:
        assert ovsdb_rows.port_bridge(ovs, name) == "br-int"
    assert all(linkstate.device_exists(v.vif_name) for v in many[:5])

    # Plugged as described: a second run changes nothing.
    results = ovs_plugin.host.run_many(plans, ovs_plugin.ovsdb)
    assert [(r.error, r.changed) for r in results] == [(None, False)] * 6
    assert ovsdb_rows.next_cfg(ovs) == before + 1


def test_one_bad_vif_of_a_batch_fails_alone(ovs_plugin, ovs) -> None:
    good = [vifs.ovs_vif(n) for n in range(3)]
    bad = vifs.ovs_vif(9)
    # Its port name is taken by a port of another VIF.
    other = vifs.ovs_vif(8)
    other.vif_name = bad.vif_name
    ovs_plugin.plug(other, INSTANCE)
    plans = [ovs_plugin.plug_plan(v, INSTANCE) for v in [*good, bad]]
    results = [
        r.error for r in ovs_plugin.host.run_many(plans, ovs_plugin.ovsdb)
    ]
    assert results[:3] == [None] * 3
    assert isinstance(results[3], exception.HostOperationRefused)
    for vif in good:
        assert ovsdb_rows.port_bridge(ovs, vif.vif_name) == "br-int"
    iface = ovsdb_rows.row(ovs, "Interface", bad.vif_name)
    assert iface is not None and iface["external_ids"]["iface-id"] == other.id
