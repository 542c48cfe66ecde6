"""The linux_bridge plugin's plans, options and error reporting.

The plans are checked here without a kernel; the functional tests run them.
"""

from __future__ import annotations

import pytest

from os_vif import exception
from os_vif.internal import host_ops
from os_vif.objects import network
from os_vif.objects import vif as vif_objects
from os_vif.plugins.linux_bridge import LinuxBridgePlugin
from os_vif.plugins.linux_bridge.options import OPTS

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
    fields = dict(
        id="2d3c1f9e-6c1a-4b7f-8e5a-0c9d8b7a6f5e",
        bridge="br100",
        should_provide_bridge=True,
        should_provide_vlan=False,
    )
    fields.update(net_fields)
    return vif_objects.VIFBridge(
        id="0f6b8e2a-5d4c-4e3b-9a1f-2c3d4e5f6a7b",
        network=network.Network(**fields),
        plugin="linux_bridge",
        vif_name="tap0",
        bridge_name="br100",
        has_traffic_filtering=False,
    )


def ops(plan):
    return [step.operation for step in plan]


def test_option_names_are_os_vifs():
    names = {opt.name for opt in OPTS}
    assert names >= {
        "use_ipv6", "iptables_top_regex", "iptables_bottom_regex",
        "iptables_drop_action", "forward_bridge_interface",
        "vlan_interface", "flat_interface", "network_device_mtu",
    }


def test_describe(plugin):
    info = plugin.describe()
    assert info.plugin_name == "linux_bridge"
    assert info.has_vif("VIFBridge")
    assert info.get_vif("VIFBridge").max_version == "1.0"


def test_flat_network_plan(plugin):
    plan = plugin.plug_plan(make_vif(bridge_interface="eth1", mtu=1450))
    assert plan == [
        host_ops.ensure_bridge("br100", mtu=1450, disable_ipv6=True),
        host_ops.set_link("eth1", master="br100", up=True),
        host_ops.allow_bridge_forwarding("br100"),
    ]


def test_flat_interface_option_wins(plugin, override):
    override(flat_interface="eth9")
    plan = plugin.plug_plan(make_vif(bridge_interface="eth1"))
    assert plan[1] == host_ops.set_link("eth9", master="br100", up=True)


def test_vlan_network_plan(plugin, override):
    plan = plugin.plug_plan(
        make_vif(should_provide_vlan=True, vlan=42, bridge_interface="eth1")
    )
    assert plan[1:3] == [
        host_ops.set_link("eth1", up=True),
        host_ops.ensure_vlan("vlan42", "eth1", 42, mtu=1500, master="br100"),
    ]
    override(vlan_interface="bond0")
    plan = plugin.plug_plan(
        make_vif(should_provide_vlan=True, vlan=42, bridge_interface="eth1")
    )
    assert plan[2].arguments["link"] == "bond0"


def test_vlan_network_needs_an_interface(plugin):
    with pytest.raises(exception.InvalidArgument) as caught:
        plugin.plug_plan(make_vif(should_provide_vlan=True, vlan=42))
    assert caught.value.kwargs["field"] == "vlan_interface"


def test_mtu_falls_back_to_network_device_mtu(plugin, override):
    override(network_device_mtu=9000)
    assert plugin.plug_plan(make_vif())[0].arguments["mtu"] == 9000
    assert plugin.plug_plan(make_vif(mtu=None))[0].arguments["mtu"] == 9000


def test_use_ipv6_keeps_ipv6(plugin, override):
    override(use_ipv6=True)
    assert plugin.plug_plan(make_vif())[0].arguments["disable_ipv6"] is False


def test_filtering_vif_gets_no_firewall_step(plugin):
    vif = make_vif()
    vif.has_traffic_filtering = True
    assert "allow_bridge_forwarding" not in ops(plugin.plug_plan(vif))


def test_forward_bridge_interface_and_drop_action(plugin, override):
    override(forward_bridge_interface=["eth2", "eth3"],
             iptables_drop_action="REJECT")
    step = plugin.plug_plan(make_vif())[-1]
    assert step == host_ops.allow_bridge_forwarding(
        "br100", peers=["eth2", "eth3"], drop_action="REJECT"
    )


def test_create_tap(plugin, override):
    override(create_tap=True)
    plan = plugin.plug_plan(make_vif(mtu=1400))
    assert plan[-1] == host_ops.ensure_tap("tap0", mtu=1400, master="br100")
    vif = make_vif()
    vif.address = "FA:16:3E:01:02:03"
    assert plugin.plug_plan(vif)[-1].arguments["mac"] == "fe:16:3e:01:02:03"
    assert ops(plugin.unplug_plan(make_vif())) == [
        "delete_device", "remove_bridge_if_unused",
        "revoke_bridge_forwarding",
    ]


def test_unplug_plan_names_the_uplink(plugin):
    plan = plugin.unplug_plan(make_vif(bridge_interface="eth1"))
    assert plan == [
        host_ops.remove_bridge_if_unused("br100", uplinks=["eth1"]),
        host_ops.revoke_bridge_forwarding("br100", if_absent=True),
    ]


@pytest.mark.parametrize(
    "field, value, setup",
    [
        ("vif.bridge_name", "br/x", lambda v: setattr(v, "bridge_name",
                                                      "br/x")),
        ("vif.bridge_name", "b" * 16, lambda v: setattr(v, "bridge_name",
                                                        "b" * 16)),
        ("network.mtu", 20, lambda v: setattr(v.network, "mtu", 20)),
        ("network.bridge_interface", "e th",
         lambda v: setattr(v.network, "bridge_interface", "e th")),
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
    vif = make_vif(should_provide_vlan=True, vlan=5000,
                   bridge_interface="eth1")
    with pytest.raises(exception.InvalidArgument) as caught:
        plugin.plug(vif, None)
    assert caught.value.kwargs["field"] == "network.vlan"


def test_bad_tap_name_checked_only_when_the_plugin_makes_it(plugin, override):
    vif = make_vif()
    vif.vif_name = "t" * 20
    plugin.plug_plan(vif)
    override(create_tap=True)
    with pytest.raises(exception.InvalidArgument) as caught:
        plugin.plug_plan(vif)
    assert caught.value.kwargs["field"] == "vif.vif_name"


def test_other_vif_types_are_refused(plugin):
    vif = vif_objects.VIFGeneric(
        id="0f6b8e2a-5d4c-4e3b-9a1f-2c3d4e5f6a7b", plugin="linux_bridge",
        vif_name="tap0",
    )
    with pytest.raises(exception.InvalidArgument) as caught:
        plugin.plug(vif, None)
    assert caught.value.kwargs["field"] == "vif"


def test_plug_runs_one_privileged_plan(plugin, override, monkeypatch):
    calls = []
    override(create_tap=True)
    monkeypatch.setattr(
        host_ops.HostOperations, "run",
        lambda self, plan: calls.append(plan) or [True] * len(plan),
    )
    plugin.plug(make_vif(bridge_interface="eth1"), None)
    plugin.unplug(make_vif(bridge_interface="eth1"), None)
    assert [len(plan) for plan in calls] == [4, 3]
