"""os-vif 5.x's import paths that third-party code uses keep working.

Each is deprecated: it emits a DeprecationWarning that names what to use
instead.  The shims that change the host are tested through the layer
below them: the plans they hand to the ovs plugin's runner (no host is
read or changed here; the operations themselves are tested functionally).
"""

from __future__ import annotations

import sys
import warnings

import pytest

from os_vif import exception
from os_vif.internal import kernel as devices
from os_vif.internal import linkstate
from os_vif.internal.ovsdb import operations as ovs
from os_vif.internal.unprivileged import runner
from os_vif.objects import host_info
from tests import fake_sysfs

VIF_ID = "d4e5f6a7-b8c9-4d0e-8f1a-000000000001"
MAC = "fa:16:3e:00:00:01"


def fresh_import(name: str) -> tuple[object, list[warnings.WarningMessage]]:
    """Import ``name`` anew; return it and the warnings it emitted."""
    sys.modules.pop(name, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # As an import statement does (the warning names its line).
        module = __import__(name, fromlist=["_"])
    return module, [w for w in caught if w.category is DeprecationWarning]


def only_warning(caught: list[warnings.WarningMessage]) -> str:
    assert len(caught) == 1, [str(w.message) for w in caught]
    assert caught[0].category is DeprecationWarning
    return str(caught[0].message)


# -- modules deprecated on import --------------------------------------------


def test_os_vif_utils():
    utils, caught = fresh_import("os_vif.utils")
    assert "data | mask" in only_warning(caught)
    assert caught[0].filename == __file__  # points at the importer
    assert utils.set_mask(0b0001, 0b0110) == 0b0111
    assert utils.unset_mask(0b0111, 0b0010) == 0b0101
    # As 5.x: only bit_size bits are kept.
    assert utils.unset_mask(-1, 1, bit_size=8) == 0xFE
    assert utils.unset_mask(1 << 40, 0) == 0


def test_os_vif_i18n():
    i18n, caught = fresh_import("os_vif.i18n")
    assert "TranslatorFactory" in only_warning(caught)
    assert i18n.DOMAIN == "os_vif"
    assert str(i18n._("Plug failed")) == "Plug failed"
    assert isinstance(i18n.get_available_languages(), list)
    assert i18n.translate("x", "en_US") == "x"


def test_os_vif_version_is_our_version():
    import importlib.metadata

    version, caught = fresh_import("os_vif.version")
    assert "importlib.metadata" in only_warning(caught)
    ours = importlib.metadata.version("os-vif")
    assert version.__version__ == ours
    assert version.version_info.version_string() == ours
    assert version.version_info.release_string() == ours
    assert str(version.version_info) == ours
    assert ours.split(".")[0] == "6"


def test_os_vif_version_without_pbr(monkeypatch):
    monkeypatch.setitem(sys.modules, "pbr", None)
    version, _ = fresh_import("os_vif.version")
    info = version.version_info
    assert info.version_string() == version.__version__
    assert info.cached_version_string("v") == "v" + version.__version__
    assert repr(info) == "VersionInfo(os-vif:%s)" % version.__version__
    sys.modules.pop("os_vif.version", None)


# -- HostPluginInfo.filter_vif_types -----------------------------------------


def plugin_info() -> host_info.HostPluginInfo:
    return host_info.HostPluginInfo(
        plugin_name="ovs",
        vif_info=[
            host_info.HostVIFInfo(
                vif_object_name=name,
                min_version="1.0",
                max_version="1.0",
                supported_port_profiles=[],
            )
            for name in ("VIFBridge", "VIFOpenVSwitch", "VIFVHostUser")
        ],
    )


def test_host_plugin_info_filter_vif_types_warns_and_filters():
    info = plugin_info()
    with pytest.warns(DeprecationWarning, match="HostInfo.filter_vif_types"):
        info.filter_vif_types(["VIFOpenVSwitch", "VIFSriov"])
    assert [v.vif_object_name for v in info.vif_info] == ["VIFOpenVSwitch"]
    with pytest.warns(DeprecationWarning):
        info.filter_vif_types([])
    assert info.vif_info == []


def test_host_info_filter_vif_types_is_silent():
    info = host_info.HostInfo(plugin_info=[plugin_info()])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info.filter_vif_types(["VIFBridge"])
    assert [v.vif_object_name for v in info.plugin_info[0].vif_info] == [
        "VIFBridge"
    ]


# -- vif_plug_ovs.linux_net --------------------------------------------------


@pytest.fixture
def plans(monkeypatch):
    """The plans handed to the ovs runner, with the OVSDB client given."""
    ran: list[tuple[list, object]] = []

    def run(self, plan, ovsdb=None, order=runner.Order.KERNEL_FIRST):
        assert self is runner.OVS
        ran.append((list(plan.steps), ovsdb, order))

    monkeypatch.setattr(runner.HostRunner, "run", run)
    return ran


@pytest.fixture
def linux_net():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from vif_plug_ovs import linux_net
    return linux_net


@pytest.fixture
def host_devices(monkeypatch):
    """The devices the shims' existence checks find."""
    present: set[str] = set()
    monkeypatch.setattr(linkstate, "device_exists", present.__contains__)
    return present


def call(function, *args, **kwargs):
    """Call a shim; return its result and its one warning's message."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    message = only_warning(caught)
    assert caught[0].filename == __file__
    assert "vif_plug_ovs.linux_net.%s" % function.__name__ in message
    return result, message


def test_importing_linux_net_is_silent():
    _, caught = fresh_import("vif_plug_ovs.linux_net")
    assert caught == []


def test_create_tap(linux_net, plans):
    _, message = call(linux_net.create_tap, "tap0", 1450, MAC, True)
    assert "os_vif.plug" in message and "create_tap" in message
    (steps, ovsdb, _) = plans[0]
    assert steps == [
        devices.EnsureTap(
            name="tap0",
            mtu=1450,
            mac=MAC,
            multiqueue=True,
            up=True,
            disable_ipv6=True,
        )
    ]
    assert ovsdb is None


def test_create_tap_without_mtu_leaves_it(linux_net, plans):
    call(linux_net.create_tap, "tap0", None, MAC)
    assert "mtu" not in plans[0][0][0].arguments
    assert plans[0][0][0].get("multiqueue") is False


def test_bad_input_is_refused_before_any_change(linux_net, plans):
    with pytest.raises(exception.InvalidArgument) as err:
        call(linux_net.create_tap, "tap0", 1500, "not-a-mac")
    assert err.value.kwargs["field"] == "ensure_tap.mac"
    with pytest.raises(exception.InvalidArgument):
        call(linux_net.create_veth_pair, "a" * 16, "qvo1", 1500)
    with pytest.raises(exception.InvalidArgument):
        call(linux_net.set_interface_state, "tap0", "sideways")
    with pytest.raises(exception.InvalidArgument):
        call(linux_net.set_device_mtu, "tap0", 10)
    assert plans == []


def test_create_veth_pair(linux_net, plans):
    call(linux_net.create_veth_pair, "qvb1", "qvo1", 9000)
    assert plans[0][0] == [
        devices.EnsureVeth(
            name="qvb1", peer="qvo1", mtu=9000, up=True, promisc=True
        )
    ]


def test_update_veth_pair(linux_net, plans):
    call(linux_net.update_veth_pair, "qvb1", "qvo1", 1400)
    assert plans[0][0] == [
        devices.SetLink(name="qvb1", mtu=1400),
        devices.SetLink(name="qvo1", mtu=1400),
    ]
    call(linux_net.update_veth_pair, "qvb1", "qvo1", None)
    assert len(plans) == 1


def test_delete_net_dev_deletes_only_what_os_vif_owns(linux_net, plans):
    call(linux_net.delete_net_dev, "tap0")
    (step,) = plans[0][0]
    assert step == devices.DeleteDevice(name="tap0")
    # The daemon admits a deletion only of a device os_vif owns: no role
    # that would let it delete someone else's is asked for.
    assert "role" not in step.arguments


def test_ensure_bridge(linux_net, plans):
    call(linux_net.ensure_bridge, "qbr1")
    assert plans[0][0] == [
        devices.EnsureBridge(
            name="qbr1", up=True, disable_ipv6=True, ageing=0, role="bridge"
        ),
        devices.SetSysctl(
            name="qbr1",
            family="ipv4",
            key="arp_ignore",
            value=1,
            role="bridge",
        ),
        devices.SetSysctl(
            name="qbr1",
            family="ipv4",
            key="arp_announce",
            value=2,
            role="bridge",
        ),
    ]


def test_delete_bridge(linux_net, plans, host_devices):
    call(linux_net.delete_bridge, "qbr1", "qvb1")
    assert plans[0][0] == [devices.DeleteDevice(name="qbr1", kind="bridge")]
    host_devices.add("qvb1")
    call(linux_net.delete_bridge, "qbr1", "qvb1")
    assert plans[1][0] == [
        devices.DeleteDevice(name="qbr1", kind="bridge"),
        devices.SetLink(name="qvb1", up=False, role="uplink"),
    ]


def test_add_bridge_port(linux_net, plans):
    call(linux_net.add_bridge_port, "qbr1", "tap1")
    assert plans[0][0] == [
        devices.SetLink(name="tap1", master="qbr1", role="uplink")
    ]


def test_set_device_mtu(linux_net, plans, host_devices):
    call(linux_net.set_device_mtu, "tap1", 1400)
    assert plans == []  # absent: left alone, as in 5.x
    host_devices.add("tap1")
    call(linux_net.set_device_mtu, "tap1", 1400)
    assert plans[0][0] == [devices.SetLink(name="tap1", mtu=1400)]


def test_set_interface_state(linux_net, plans, host_devices):
    call(linux_net.set_interface_state, "rep0", "up")
    assert plans == []
    host_devices.add("rep0")
    call(linux_net.set_interface_state, "rep0", "up")
    call(linux_net.set_interface_state, "rep0", "down")
    assert [p[0] for p in plans] == [
        [devices.SetLink(name="rep0", up=True, role="uplink")],
        [devices.SetLink(name="rep0", up=False, role="uplink")],
    ]


def test_dpdk_representor_port_name(linux_net):
    name, _ = call(linux_net.get_dpdk_representor_port_name, VIF_ID)
    assert name == "vfrd4e5f6a7-b8"
    assert linux_net.NIC_NAME_LEN == len(name)


@pytest.fixture
def layout(tmp_path, monkeypatch, linux_net):
    built = fake_sysfs.connectx5_switchdev(tmp_path, vfio_vfs=((1, 1),))
    monkeypatch.setattr(linux_net, "SYSFS_ROOT", str(tmp_path))
    return built


def test_sriov_lookups(linux_net, layout):
    pf = layout.pfs[1]
    vf = pf.vfs[2]
    assert call(linux_net.get_vf_num_by_pci_address, vf.address)[0] == "2"
    assert call(linux_net.get_pf_pci_from_vf, vf.address)[0] == pf.address
    assert call(linux_net.get_ifname_by_pci_address, vf.address)[0] == (
        vf.netdev
    )
    assert call(
        linux_net.get_ifname_by_pci_address, vf.address, pf_interface=True
    )[0] == (pf.ifname)
    # The uplink representor of a switchdev PF is its p<N> netdev.
    assert call(
        linux_net.get_ifname_by_pci_address,
        vf.address,
        pf_interface=True,
        switchdev=True,
    )[0] == (pf.ifname)
    assert call(linux_net.get_representor_port, pf.ifname, "2")[0] == (
        vf.representor
    )
    assert call(linux_net.get_function_by_ifname, pf.ifname)[0] == (
        pf.address,
        True,
    )
    assert call(linux_net.get_function_by_ifname, vf.netdev)[0] == (
        vf.address,
        False,
    )
    assert call(linux_net.get_function_by_ifname, "lo")[0] == (None, False)


def test_sriov_lookup_failures(linux_net, layout):
    pf = layout.pfs[1]
    with pytest.raises(exception.DeviceDiscoveryFailed):
        call(linux_net.get_representor_port, pf.ifname, "9")
    with pytest.raises(exception.DeviceDiscoveryFailed):
        # A VF bound to vfio-pci has no netdev.
        call(linux_net.get_ifname_by_pci_address, pf.vfs[1].address)
    with pytest.raises(exception.DeviceDiscoveryFailed):
        call(linux_net.get_vf_num_by_pci_address, "0000:99:00.0")
    with pytest.raises(exception.InvalidArgument):
        call(linux_net.get_pf_pci_from_vf, "nonsense")


# -- vif_plug_ovs.ovsdb.ovsdb_lib --------------------------------------------


class Config:
    ovsdb_connection = "tcp:127.0.0.1:6640"
    ovs_vsctl_timeout = 120
    ovsdb_interface = "vsctl"


@pytest.fixture
def base_ovs():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from vif_plug_ovs.ovsdb import ovsdb_lib

        made = ovsdb_lib.BaseOVS(Config)
    message = only_warning(caught)
    assert "os_vif.plug" in message and "ovsdbapp" in message
    assert caught[0].filename == __file__
    return made


def test_base_ovs_keeps_its_settings(base_ovs):
    assert base_ovs.connection == Config.ovsdb_connection
    assert base_ovs.timeout == 120
    assert base_ovs.interface == "vsctl"
    with pytest.raises(AttributeError, match="ovsdbapp"):
        base_ovs.ovsdb  # noqa: B018 - the read is the test


def test_base_ovs_takes_the_tls_files_of_its_config():
    class TlsConfig(Config):
        ovsdb_connection = "ssl:127.0.0.1:6640"
        ssl_key_file = "/etc/k.pem"
        ssl_cert_file = "/etc/c.pem"
        ssl_ca_cert_file = "/etc/ca.pem"

    from vif_plug_ovs.ovsdb import ovsdb_lib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        made = ovsdb_lib.BaseOVS(TlsConfig)
    assert made._client.tls is not None
    assert made._client.tls.files == (
        "/etc/k.pem", "/etc/c.pem", "/etc/ca.pem"
    )


def test_ensure_and_delete_bridge(base_ovs, plans):
    base_ovs.ensure_ovs_bridge("br-int", "netdev")
    base_ovs.delete_ovs_bridge("tbr-1")
    assert [p[0] for p in plans] == [
        [ovs.EnsureOvsBridge(name="br-int", datapath_type="netdev")],
        [ovs.DeleteOvsBridge(name="tbr-1")],
    ]
    assert plans[0][1] is base_ovs._client


def test_create_ovs_vif_port(base_ovs, plans):
    base_ovs.create_ovs_vif_port(
        "tbr-1",
        "tap1",
        VIF_ID,
        MAC,
        "inst-1",
        mtu=1450,
        tag=4095,
        datapath_type="system",
        qos_type="linux-noop",
        vlan_mode="trunk",
        trunks=4095,
    )
    (steps, _, _) = plans[0]
    assert steps == [
        ovs.EnsureOvsBridge(name="tbr-1", datapath_type="system"),
        ovs.EnsureOvsPort(
            name="tap1",
            bridge="tbr-1",
            external_ids={
                "iface-id": VIF_ID,
                "iface-status": "active",
                "attached-mac": MAC,
                "vm-uuid": "inst-1",
                "bridge_name": "tbr-1",  # a trunk bridge, as in 5.x
            },
            mtu_request=1450,
            tag=4095,
            vlan_mode="trunk",
            trunks=[4095],
            qos_type="linux-noop",
        ),
    ]


def test_create_vhostuser_and_dpdk_ports(base_ovs, plans):
    base_ovs.create_ovs_vif_port(
        "br-int",
        "vhu1",
        VIF_ID,
        MAC,
        "inst-1",
        interface_type="dpdkvhostuserclient",
        vhost_server_path="/run/vhu1.sock",
        set_ids=False,
    )
    base_ovs.create_ovs_vif_port(
        "br-int",
        "vfr1",
        VIF_ID,
        MAC,
        "inst-1",
        interface_type="dpdk",
        pf_pci="0000:03:00.0",
        vf_num="3",
    )
    (vhu,) = plans[0][0]
    assert vhu == ovs.EnsureOvsPort(
        name="vhu1",
        bridge="br-int",
        interface_type="dpdkvhostuserclient",
        options={"vhost-server-path": "/run/vhu1.sock"},
    )
    (dpdk,) = plans[1][0]
    assert dpdk.get("options") == {
        "dpdk-devargs": "0000:03:00.0,representor=[3]"
    }
    assert "bridge_name" not in dpdk.get("external_ids")


def test_create_ovs_vif_port_refuses_bad_input_first(base_ovs, plans):
    with pytest.raises(exception.InvalidArgument):
        base_ovs.create_ovs_vif_port("br-int", "tap1", VIF_ID, "zz", "i")
    assert plans == []


def test_delete_ovs_vif_port(base_ovs, plans, monkeypatch):
    where = {"tap1": "br-int", "tap2": "br-other"}
    monkeypatch.setattr(base_ovs, "_bridge_of_port", where.get)
    base_ovs.delete_ovs_vif_port("br-int", "tap1")
    base_ovs.delete_ovs_vif_port("br-int", "tap3", delete_netdev=False)
    base_ovs.delete_ovs_vif_port("br-int", "tap2")  # elsewhere: left alone
    assert plans == [
        (
            [
                ovs.RemoveOvsPort(name="tap1", per_port_bridge="br-int"),
                devices.DeleteDevice(name="tap1"),
            ],
            base_ovs._client,
            runner.Order.OVSDB_FIRST,
        ),
        (
            [ovs.RemoveOvsPort(name="tap3", per_port_bridge="br-int")],
            base_ovs._client,
            runner.Order.OVSDB_FIRST,
        ),
    ]
    assert base_ovs.port_exists("tap1", "br-int")
    assert not base_ovs.port_exists("tap2", "br-int")
    assert not base_ovs.port_exists("tap3", "br-int")


def test_update_ovs_vif_port(base_ovs, plans, monkeypatch):
    found = {"vhu1": ("br-int", "dpdkvhostuser")}
    monkeypatch.setattr(base_ovs, "_port_and_type", found.get)
    base_ovs.update_ovs_vif_port("vhu1", mtu=9000)
    base_ovs.update_ovs_vif_port("gone", mtu=9000)
    base_ovs.update_ovs_vif_port("vhu1", mtu=None)
    assert [p[0] for p in plans] == [
        [
            ovs.EnsureOvsPort(
                name="vhu1",
                bridge="br-int",
                interface_type="dpdkvhostuser",
                mtu_request=9000,
            )
        ]
    ]


def test_create_patch_port_pair(base_ovs, plans):
    base_ovs.create_patch_port_pair(
        "pbr-1", "pbp-1", "br-int", "ibp-1", VIF_ID, MAC, "inst-1", tag=7
    )
    assert plans[0][0] == [
        ovs.EnsureOvsPort(
            name="ibp-1",
            bridge="br-int",
            interface_type="patch",
            options={"peer": "pbp-1"},
            external_ids={
                "iface-id": VIF_ID,
                "iface-status": "active",
                "attached-mac": MAC,
                "vm-uuid": "inst-1",
            },
            tag=7,
        ),
        ovs.EnsureOvsPort(
            name="pbp-1",
            bridge="pbr-1",
            interface_type="patch",
            options={"peer": "ibp-1"},
        ),
    ]
