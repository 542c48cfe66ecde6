"""Checking and resolving an offloaded VIF, before any host operation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from oslo_config import cfg

import os_vif
from os_vif import exception
from os_vif.internal.unprivileged import sysfs
from os_vif.objects import vif as vif_objects
from os_vif.plugins import rules
from os_vif.plugins.offload import OffloadPlugin, options, plan, port
from os_vif.sandbox import vifs
from tests import fake_sysfs

INSTANCE = vifs.INSTANCE
VF = "0000:03:00.3"
# The VIF id and MAC the factories give _hostdev().
VIF_ID = vifs.offload_vif(VF).id
MAC = vifs.offload_vif(VF).address


@pytest.fixture
def config() -> Any:
    OffloadPlugin.load("offload")
    return cfg.CONF.os_vif_offload


@pytest.fixture
def cx5(tmp_path: Path) -> sysfs.SwitchdevDiscovery:
    return sysfs.SwitchdevDiscovery(
        fake_sysfs.connectx5_switchdev(tmp_path).root
    )


@pytest.fixture
def legacy(tmp_path: Path) -> sysfs.SwitchdevDiscovery:
    return sysfs.SwitchdevDiscovery(fake_sysfs.legacy_mode(tmp_path).root)


def _hostdev(**fields: Any) -> vif_objects.VIFHostDevice:
    """Classic SR-IOV (no port profile) on ``VF``, ``fields`` replaced.

    Its network is on bridge ``br-x``, MTU 9000, VLAN 100.
    """
    vif = vifs.offload_vif(VF, profile=None, bridge="br-x", mtu=9000, vlan=100)
    for name, value in fields.items():
        setattr(vif, name, value)
    return vif


def test_switchdev_vf_to_ovs(config: Any, cx5: Any) -> None:
    described = port.describe_port(_hostdev(), INSTANCE, config, cx5)
    assert described.vf.vf_index == 1
    assert described.representor is not None
    assert described.representor.ifname == "enp3s0f0npf0vf1"
    assert described.mtu == 9000
    # In switchdev mode the switch tags the traffic, not the VF.
    assert described.settings == port.VFSettings(
        mac=MAC, vlan=None, spoofchk=True, trust=False, link_state="auto"
    )
    assert described.switch == port.SwitchPort(
        kind=options.SWITCH_OVS,
        bridge="br-x",
        external_ids={
            "iface-id": VIF_ID,
            "iface-status": "active",
            "vm-uuid": INSTANCE.uuid,
            "attached-mac": MAC,
        },
        datapath_type=None,
    )


def test_ovs_profile_gives_interface_id_and_datapath(
    config: Any, cx5: Any, conf: Any
) -> None:
    # An interface_id other than the VIF id: the one the switch must use.
    profile = vif_objects.VIFPortProfileOVSRepresentor(
        interface_id="7e0d1c2b-3a4f-4b5c-8d6e-9f0a1b2c3d4e",
        profile_id="",
        datapath_type="system",
    )
    vif = _hostdev(
        port_profile=profile,
        network=vifs.network_of(None),
    )
    conf.config(default_switch="linux_bridge", group="os_vif_offload")
    described = port.describe_port(vif, INSTANCE, config, cx5)
    assert described.switch is not None
    # The profile says Open vSwitch, whatever the default.
    assert described.switch.kind == options.SWITCH_OVS
    assert described.switch.bridge == "br-int"
    assert described.switch.datapath_type == "system"
    assert (
        described.switch.external_ids["iface-id"]
        == "7e0d1c2b-3a4f-4b5c-8d6e-9f0a1b2c3d4e"
    )
    assert described.settings.vlan is None
    assert described.mtu is None


def test_options_shape_the_vf_settings(
    config: Any, cx5: Any, conf: Any
) -> None:
    overrides = {
        "vf_vlan": "always",
        "spoof_check": False,
        "trust": True,
        "vf_link_state": "enable",
    }
    conf.config(group="os_vif_offload", **overrides)
    described = port.describe_port(_hostdev(), INSTANCE, config, cx5)
    assert described.settings == port.VFSettings(
        mac=MAC, vlan=100, spoofchk=False, trust=True, link_state="enable"
    )


def test_legacy_without_offload_profile_is_vf_only(
    config: Any, legacy: Any
) -> None:
    described = port.describe_port(_hostdev(), INSTANCE, config, legacy)
    assert described.representor is None
    assert described.switch is None
    assert described.vf.pf_ifname == "enp3s0f0np0"
    # No switch to tag the traffic: the VF does.
    assert described.settings.vlan == 100


def test_vf_vlan_never(config: Any, legacy: Any, conf: Any) -> None:
    conf.config(vf_vlan="never", group="os_vif_offload")
    described = port.describe_port(_hostdev(), INSTANCE, config, legacy)
    assert described.settings.vlan is None


@pytest.mark.parametrize(
    "profile",
    [
        vif_objects.VIFPortProfileBase(
            datapath_offload=vif_objects.DatapathOffloadRepresentor()
        ),
        vif_objects.VIFPortProfileOVSRepresentor(
            interface_id="7e0d1c2b-3a4f-4b5c-8d6e-9f0a1b2c3d4e",
            profile_id="",
        ),
    ],
)
def test_legacy_with_offload_profile_fails(
    config: Any, legacy: Any, profile: Any
) -> None:
    with pytest.raises(exception.DeviceDiscoveryFailed) as caught:
        port.describe_port(
            _hostdev(port_profile=profile), INSTANCE, config, legacy
        )
    assert caught.value.kwargs["looked_for"] == "switchdev representor"


def test_network_mtu_0_leaves_the_mtu_alone(config: Any, cx5: Any) -> None:
    # 0 is "not set" on the wire, as for ovs and linux_bridge (one rule:
    # rules.network_mtu); offload has no network_device_mtu to fall back on.
    vif = _hostdev(network=vifs.network_of("br-x", mtu=9000, vlan=100))
    vif.network.mtu = 0
    described = port.describe_port(vif, INSTANCE, config, cx5)
    assert described.mtu is None
    assert described.representor is not None


def test_identity_is_the_ovs_plugins(config: Any, cx5: Any) -> None:
    # The same external_ids as the ovs plugin writes, the MAC checked and
    # lower-cased the same way.
    vif = _hostdev(address=MAC.upper())
    described = port.describe_port(vif, INSTANCE, config, cx5)
    assert described.switch is not None
    assert described.switch.external_ids == rules.ovs_external_ids(
        VIF_ID, MAC.lower(), INSTANCE.uuid
    )
    assert described.switch.external_ids["attached-mac"] == MAC.lower()


@pytest.mark.parametrize(
    "vif, field",
    [
        (_hostdev(dev_type="generic"), "vif.dev_type"),
        (vifs.ovs_vif(), "vif"),
        (
            _hostdev(
                port_profile=vif_objects.VIFPortProfileBase(
                    datapath_offload=vif_objects.DatapathOffloadRepresentor(
                        representor_address="0000:03:00.4"
                    )
                )
            ),
            "vif.port_profile.datapath_offload.representor_address",
        ),
        (
            _hostdev(network=vifs.network_of(None, mtu=20)),
            "vif.network.mtu",
        ),
        (
            _hostdev(network=vifs.network_of(None, vlan=4096)),
            "vif.network.vlan",
        ),
        (
            _hostdev(network=vifs.network_of("a-bridge-name-too-long")),
            "vif.network.bridge",
        ),
    ],
)
def test_bad_input_names_the_field(
    config: Any, cx5: Any, vif: Any, field: str
) -> None:
    with pytest.raises(exception.InvalidArgument) as caught:
        port.describe_port(vif, INSTANCE, config, cx5)
    assert caught.value.kwargs["field"] == field


def test_multicast_mac_is_refused(config: Any, cx5: Any) -> None:
    vif = _hostdev()
    vif.address = "01:00:5e:00:00:01"
    with pytest.raises(exception.InvalidArgument) as caught:
        port.describe_port(vif, INSTANCE, config, cx5)
    assert caught.value.kwargs["field"] == "vif.address"


def test_linux_bridge_needs_a_bridge_name(
    config: Any, cx5: Any, conf: Any
) -> None:
    vif = _hostdev(network=vifs.network_of(None))
    conf.config(default_switch="linux_bridge", group="os_vif_offload")
    with pytest.raises(exception.InvalidArgument) as caught:
        port.describe_port(vif, INSTANCE, config, cx5)
    assert caught.value.kwargs["field"] == "vif.network.bridge"


# -- the plugin as os_vif loads it -------------------------------------


def test_loaded_by_entry_point_with_its_options() -> None:
    os_vif.initialize(reset=True)
    info = os_vif.host_info()
    plugin = info.get_plugin("offload")
    assert [v.vif_object_name for v in plugin.vif_info] == [
        "VIFHostDevice",
        "VIFDirect",
    ]
    for vif_info in plugin.vif_info:
        assert [
            p.profile_object_name for p in vif_info.supported_port_profiles
        ] == [
            "VIFPortProfileOVSRepresentor",
            "VIFPortProfileOpenVSwitch",
            "VIFPortProfileBase",
        ]
        assert vif_info.min_version == "1.0"
    group = cfg.CONF.os_vif_offload
    assert group.sysfs_root == "/sys"
    assert group.default_switch == "openvswitch"
    assert group.reset_vf_mac_on_unplug is True
    assert group.vf_vlan == "auto"


def test_a_vf_gone_from_sysfs_is_a_finding_of_unplug(
    config: Any, tmp_path: Path
) -> None:
    gone = sysfs.SwitchdevDiscovery(str(tmp_path / "no-sysfs"))
    vif = vifs.offload_vif(VF, profile="ovs_offload", bridge="br-x")
    with pytest.raises(exception.DeviceDiscoveryFailed):
        port.discover(vif, INSTANCE, config, gone)
    found = port.discover(vif, INSTANCE, config, gone, unplug=True)
    assert found == port.Found(None)
    # Only its OVS port may be left, found by the VIF's identity; looking
    # for it is best effort (see os_vif.plugins.base).
    wanted = plan.unplug_plan(vif, INSTANCE, config, found)
    assert wanted is not None and wanted.kernel == []
    assert [(op.NAME, op.device, op.get("mac")) for op in wanted.ovsdb] == [
        ("ovs_remove_ports_of_vif", vif.port_profile.interface_id, MAC)
    ]
    plugin = OffloadPlugin(config)
    assert "iface-id %s" % vif.port_profile.interface_id in str(
        plugin.best_effort(vif, INSTANCE, found)
    )
    assert plugin.best_effort(vif, INSTANCE, port.Found(object())) is None  # type: ignore[arg-type]
