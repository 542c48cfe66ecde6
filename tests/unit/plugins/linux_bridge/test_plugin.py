"""The linux_bridge plugin's plans, options and error reporting.

The plans are checked here without a kernel; the functional tests run them.
"""

from __future__ import annotations

import pytest

from os_vif import exception
from os_vif.internal import kernel as devices
from os_vif.internal.kernel import firewall
from os_vif.internal.unprivileged import runner
from os_vif.objects import network
from os_vif.objects import vif as vif_objects
from os_vif.plugins.linux_bridge import LinuxBridgePlugin, plan
from os_vif.plugins.linux_bridge.options import OPTS
from os_vif.sandbox import vifs

GROUP = "os_vif_linux_bridge"


@pytest.fixture
def plugin(conf):
    return LinuxBridgePlugin.load("linux_bridge")


@pytest.fixture
def override(conf):
    """Set options of the plugin's group (undone by the conf fixture)."""

    def set_options(**values):
        conf.config(group=GROUP, **values)

    return set_options


def make_vif(**net_fields):
    vif = vifs.bridge_vif(
        bridge="br100",
        tap="tap0",
        mtu=None,
        vid="0f6b8e2a-5d4c-4e3b-9a1f-2c3d4e5f6a7b",
    )
    # The tests below name the tap's MAC only where they set one.
    del vif.address
    # A network of only the fields given: a field set to None (mtu=None)
    # is not one left unset, and the tests below tell them apart.
    vif.network = network.Network(
        **dict(
            dict(
                id="2d3c1f9e-6c1a-4b7f-8e5a-0c9d8b7a6f5e",
                bridge="br100",
                should_provide_bridge=True,
                should_provide_vlan=False,
            ),
            **net_fields,
        )
    )
    return vif


def plug_plan(plugin, vif):
    return plan.plug_plan(vif, None, plugin.config).steps


def unplug_plan(plugin, vif):
    return plan.unplug_plan(vif, None, plugin.config).steps


def ops(steps):
    return [step.NAME for step in steps]


def test_option_names_are_os_vifs():
    names = {opt.name for opt in OPTS}
    assert names >= {
        "use_ipv6",
        "iptables_top_regex",
        "iptables_bottom_regex",
        "iptables_drop_action",
        "forward_bridge_interface",
        "vlan_interface",
        "flat_interface",
        "network_device_mtu",
    }


def test_describe(plugin):
    info = plugin.describe()
    assert info.plugin_name == "linux_bridge"
    assert info.has_vif("VIFBridge")
    assert info.get_vif("VIFBridge").max_version == "1.0"


def test_flat_network_plan(plugin):
    steps = plug_plan(plugin, make_vif(bridge_interface="eth1", mtu=1450))
    assert steps == [
        devices.EnsureBridge(
            name="br100", mtu=1450, disable_ipv6=True, role="bridge"
        ),
        devices.SetLink(name="eth1", master="br100", up=True, role="uplink"),
        firewall.AllowBridgeForwarding(
            name="br100", peers=[], drop_action="DROP"
        ),
    ]


def test_flat_interface_option_wins(plugin, override):
    override(flat_interface="eth9")
    steps = plug_plan(plugin, make_vif(bridge_interface="eth1"))
    assert steps[1] == devices.SetLink(
        name="eth9", master="br100", up=True, role="uplink"
    )


def test_vlan_network_plan(plugin, override):
    steps = plug_plan(
        plugin,
        make_vif(should_provide_vlan=True, vlan=42, bridge_interface="eth1"),
    )
    assert steps[1:3] == [
        devices.SetLink(name="eth1", up=True, role="uplink"),
        devices.EnsureVlan(
            name="vlan42", link="eth1", vlan=42, mtu=1500, master="br100"
        ),
    ]
    override(vlan_interface="bond0")
    steps = plug_plan(
        plugin,
        make_vif(should_provide_vlan=True, vlan=42, bridge_interface="eth1"),
    )
    assert steps[2].arguments["link"] == "bond0"


def test_vlan_network_needs_an_interface(plugin):
    with pytest.raises(exception.InvalidArgument) as caught:
        plug_plan(plugin, make_vif(should_provide_vlan=True, vlan=42))
    assert caught.value.kwargs["field"] == "vlan_interface"


def test_mtu_falls_back_to_network_device_mtu(plugin, override):
    override(network_device_mtu=9000)
    assert plug_plan(plugin, make_vif())[0].arguments["mtu"] == 9000
    assert plug_plan(plugin, make_vif(mtu=None))[0].arguments["mtu"] == 9000
    # 0 is "not set" on the wire, for every plugin (as in os-vif 5.x).
    assert plug_plan(plugin, make_vif(mtu=0))[0].arguments["mtu"] == 9000


def test_use_ipv6_keeps_ipv6(plugin, override):
    override(use_ipv6=True)
    assert plug_plan(plugin, make_vif())[0].arguments["disable_ipv6"] is False


def test_filtering_vif_gets_no_firewall_step(plugin):
    vif = make_vif()
    vif.has_traffic_filtering = True
    assert "allow_bridge_forwarding" not in ops(plug_plan(plugin, vif))


def test_forward_bridge_interface_and_drop_action(plugin, override):
    override(
        forward_bridge_interface=["eth2", "eth3"],
        iptables_drop_action="REJECT",
    )
    step = plug_plan(plugin, make_vif())[-1]
    assert step == firewall.AllowBridgeForwarding(
        name="br100", peers=["eth2", "eth3"], drop_action="REJECT"
    )


def test_create_tap(plugin, override):
    override(create_tap=True)
    steps = plug_plan(plugin, make_vif(mtu=1400))
    assert steps[-1] == devices.EnsureTap(
        name="tap0",
        mtu=1400,
        master="br100",
        vif_id="0f6b8e2a-5d4c-4e3b-9a1f-2c3d4e5f6a7b",
    )
    vif = make_vif()
    vif.address = "FA:16:3E:01:02:03"
    assert plug_plan(plugin, vif)[-1].arguments["mac"] == "fe:16:3e:01:02:03"
    assert ops(unplug_plan(plugin, make_vif())) == [
        "delete_device",
        "remove_bridge_if_unused",
        "revoke_bridge_forwarding",
    ]


def test_unplug_plan_names_the_uplink(plugin):
    steps = unplug_plan(plugin, make_vif(bridge_interface="eth1"))
    assert steps == [
        devices.RemoveBridgeIfUnused(name="br100", uplinks=["eth1"]),
        firewall.RevokeBridgeForwarding(name="br100", if_absent=True),
    ]


@pytest.mark.parametrize(
    "field, value, setup",
    [
        (
            "vif.bridge_name",
            "br/x",
            lambda v: setattr(v, "bridge_name", "br/x"),
        ),
        (
            "vif.bridge_name",
            "b" * 16,
            lambda v: setattr(v, "bridge_name", "b" * 16),
        ),
        ("vif.network.mtu", 20, lambda v: setattr(v.network, "mtu", 20)),
        (
            "network.bridge_interface",
            "e th",
            lambda v: setattr(v.network, "bridge_interface", "e th"),
        ),
    ],
)
def test_bad_input_names_the_field(plugin, field, value, setup):
    vif = make_vif()
    setup(vif)
    with pytest.raises(exception.InvalidArgument) as caught:
        plugin.plug(vif, None)
    assert caught.value.kwargs["field"] == field
    assert caught.value.kwargs["value"] == value


def test_bad_vlan_names_the_field(plugin):
    vif = make_vif(
        should_provide_vlan=True, vlan=5000, bridge_interface="eth1"
    )
    with pytest.raises(exception.InvalidArgument) as caught:
        plugin.plug(vif, None)
    assert caught.value.kwargs["field"] == "network.vlan"


def test_bad_tap_name_checked_only_when_the_plugin_makes_it(plugin, override):
    vif = make_vif()
    vif.vif_name = "t" * 20
    plug_plan(plugin, vif)
    override(create_tap=True)
    with pytest.raises(exception.InvalidArgument) as caught:
        plug_plan(plugin, vif)
    assert caught.value.kwargs["field"] == "vif.vif_name"


def test_other_vif_types_are_refused(plugin):
    vif = vif_objects.VIFGeneric(
        id="0f6b8e2a-5d4c-4e3b-9a1f-2c3d4e5f6a7b",
        plugin="linux_bridge",
        vif_name="tap0",
    )
    with pytest.raises(exception.InvalidArgument) as caught:
        plugin.plug(vif, None)
    assert caught.value.kwargs["field"] == "vif"


def test_plug_runs_one_privileged_plan(plugin, override, monkeypatch):
    calls = []
    override(create_tap=True)

    def run_many(self, plans, ovsdb=None, *, order, links=None):
        calls.append(([len(plan.steps) for plan in plans], order))
        return [runner.PlanResult(changed=True) for _ in plans]

    monkeypatch.setattr(runner.HostRunner, "run_many", run_many)
    plugin.plug(make_vif(bridge_interface="eth1"), None)
    plugin.unplug(make_vif(bridge_interface="eth1"), None)
    # A plug makes the devices before anything else; an unplug removes
    # what else refers to them first.
    assert calls == [
        ([4], runner.Order.KERNEL_FIRST),
        ([3], runner.Order.OVSDB_FIRST),
    ]


def test_unplug_is_lenient_where_plug_is_strict(plugin, override):
    override(create_tap=True)
    vif = make_vif(mtu=20)
    vif.vif_name = "t" * 16
    with pytest.raises(exception.InvalidArgument):
        plugin.validate_plug(vif, None)
    # The tap cannot exist under that name; the bridge is still looked at.
    assert ops(unplug_plan(plugin, vif)) == [
        "remove_bridge_if_unused",
        "revoke_bridge_forwarding",
    ]
