"""The workload's end in plans: steps, addressing, VLAN nested (unit).

The kernel here has no 8021q module, so a nested VLAN device is tested
here only: the plan the noop plugin builds, and the operation's wire form
and validation (what the daemon parses again).
"""

from __future__ import annotations

import netaddr
import pytest

from os_vif import exception
from os_vif.internal import kernel
from os_vif.internal.kernel import workload as workload_ops
from os_vif.internal.unprivileged import runner
from os_vif.objects import fixed_ip, network, route, subnet
from os_vif.objects import vif as vif_objects
from os_vif.objects import workload as workload_objects
from os_vif.plugins import noop
from os_vif.plugins import workload as workload_plans
from os_vif.plugins.linux_bridge import LinuxBridgePlugin
from os_vif.plugins.ovs import OvsPlugin
from os_vif.sandbox import vifs

END = workload_objects.WorkloadInterface(
    netns="/run/netns/pod1", ifname="eth0", parent="ens3"
)


def _subnet(cidr, address, gateway=None, routes=()):
    fields = {
        "cidr": netaddr.IPNetwork(cidr),
        "ips": fixed_ip.FixedIPList(
            objects=[fixed_ip.FixedIP(address=netaddr.IPAddress(address))]
        ),
        "routes": route.RouteList(
            objects=[
                route.Route(
                    cidr=netaddr.IPNetwork(dst),
                    gateway=netaddr.IPAddress(hop),
                )
                for dst, hop in routes
            ]
        ),
    }
    if gateway is not None:
        fields["gateway"] = netaddr.IPAddress(gateway)
    return subnet.Subnet(**fields)


def _with_subnets(vif, *subnets):
    vif.network.subnets = subnet.SubnetList(objects=list(subnets))
    return vif


def vlan_vif(vlan_id=101):
    vif = vifs.nested_vif(1, vlan_id=vlan_id)
    vif.network = network.Network(id=vifs.NETWORK_ID, mtu=1450)
    return _with_subnets(vif, _subnet("10.0.0.0/24", "10.0.0.5", "10.0.0.1"))


# -- addressing --------------------------------------------------------------


def test_addressing_of_two_families_with_routes():
    vif = _with_subnets(
        vifs.bridge_vif(),
        _subnet(
            "10.0.0.0/24", "10.0.0.5", "10.0.0.1",
            routes=[("192.168.0.0/16", "10.0.0.254")],
        ),
        _subnet("fd00::/64", "fd00::5", "fd00::1"),
    )
    found = workload_plans.addressing(vif, default=True)
    assert found.addresses == ["10.0.0.5/24", "fd00::5/64"]
    assert found.routes == [
        ["192.168.0.0/16", "10.0.0.254"],
        ["0.0.0.0/0", "10.0.0.1"],
        ["::/0", "fd00::1"],
    ]
    assert found.ipv6 is True


def test_no_default_route_without_gateway_or_when_not_default():
    vif = _with_subnets(
        vifs.bridge_vif(), _subnet("10.0.0.0/24", "10.0.0.5")
    )
    assert workload_plans.addressing(vif, default=True).routes == []
    with_gw = _with_subnets(
        vifs.bridge_vif(), _subnet("10.0.0.0/24", "10.0.0.5", "10.0.0.1")
    )
    assert workload_plans.addressing(with_gw, default=False).routes == []
    assert workload_plans.addressing(with_gw, default=False).ipv6 is False


def test_a_vif_without_subnets_gets_no_address():
    found = workload_plans.addressing(vifs.bridge_vif(), default=True)
    assert (found.addresses, found.routes) == ([], [])


# -- nested VLAN -------------------------------------------------------------


def test_nested_vlan_plan():
    plugin = noop.NoOpPlugin(None)
    vif = vlan_vif(vlan_id=101)
    assert plugin.supports_workload(vif)
    (step,) = noop._plug_plan(vif, END).steps
    assert step.to_wire() == [
        "ensure_workload_end",
        {
            "netns": "/run/netns/pod1",
            "name": "eth0",
            "kind": "vlan",
            "parent": "ens3",
            "vlan": 101,
            "mac": vif.address,
            "mtu": 1450,
            "addresses": ["10.0.0.5/24"],
            "routes": [["0.0.0.0/0", "10.0.0.1"]],
            "vif_id": vif.id,
        },
    ]
    # The daemon parses it again (and validates it) from its wire form.
    runner.HostRunner.validate(noop._plug_plan(vif, END))


def test_nested_vlan_validation():
    with pytest.raises(exception.InvalidArgument) as caught:
        noop._plug_plan(vlan_vif(vlan_id=5000), END)
    assert caught.value.kwargs["field"] == "vif.vlan_id"
    with pytest.raises(exception.InvalidArgument) as caught:
        kernel.EnsureWorkloadEnd(
            netns="pod1", name="eth0", kind="vlan", parent="ens3"
        )
    assert caught.value.kwargs["field"] == "ensure_workload_end.vlan"
    with pytest.raises(exception.InvalidArgument) as caught:
        kernel.EnsureWorkloadEnd(
            netns="pod1", name="eth0", kind="vlan", parent="ens3", vlan=3,
            host="tap1",
        )
    assert caught.value.kwargs["field"] == "ensure_workload_end.host"


def test_nested_macvlan_and_the_parent_it_needs():
    vif = vif_objects.VIFMacvlanNested(
        id=vifs.vif_id(2), address=vifs.mac(2), plugin="noop",
        network=network.Network(id=vifs.NETWORK_ID), vif_name="eth2",
    )
    step = workload_plans.nested_end(vif, END, None)
    assert step.get("kind") == "macvlan" and step.get("vlan") is None
    with pytest.raises(exception.InvalidArgument) as caught:
        workload_plans.nested_end(
            vif,
            workload_objects.WorkloadInterface(netns="pod1", ifname="eth0"),
            None,
        )
    assert caught.value.kwargs["field"] == "workload.parent"


def test_noop_takes_no_workload_for_dpdk_nested():
    plugin = noop.NoOpPlugin(None)
    assert not plugin.supports_workload(
        vif_objects.VIFDPDKNested(id=vifs.vif_id(3), plugin="noop")
    )


# -- operations --------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kind": "veth"}, "ensure_workload_end.host"),
        ({"kind": "macvlan"}, "ensure_workload_end.parent"),
        ({"kind": "veth", "host": "t1", "parent": "p"},
         "ensure_workload_end.parent"),
        ({"kind": "ipvlan"}, "ensure_workload_end.kind"),
        ({"kind": "veth", "host": "t1", "routes": [["10.0.0.0/8"]]},
         "ensure_workload_end.routes"),
        ({"kind": "veth", "host": "t1", "routes": [["::/0", "10.0.0.1"]]},
         "ensure_workload_end.routes"),
        ({"kind": "veth", "host": "t1", "addresses": ["10.0.0.300/24"]},
         "ensure_workload_end.addresses"),
        ({"kind": "veth", "host": "t1", "netns": "../etc"},
         "ensure_workload_end.netns"),
    ],
)
def test_ensure_workload_end_refuses_bad_arguments(arguments, field):
    full = {"netns": "pod1", "name": "eth0", **arguments}
    with pytest.raises(exception.InvalidArgument) as caught:
        kernel.EnsureWorkloadEnd(**full)
    assert caught.value.kwargs["field"] == field


def test_differences_is_one_comparison():
    op = kernel.EnsureWorkloadEnd(
        netns="pod1", name="eth0", kind="veth", host="t1", mtu=1400,
        mac="fa:16:3e:00:00:01", addresses=["10.0.0.5/24"],
        routes=[["0.0.0.0/0", "10.0.0.1"]], ipv6=True,
    )
    from os_vif.internal import linkstate

    link = linkstate.Link(
        name="eth0", index=2, kind="veth", mtu=1500,
        mac="fa:16:3e:00:00:01", up=True, master_index=0,
        alias=linkstate.OS_VIF_ALIAS, vlan_id=None,
    )
    end = workload_ops.End(
        link=link, addresses=frozenset(), routes=frozenset(),
        ipv6_disabled=1,
    )
    keys = [(d.key, d.wanted) for d in workload_ops.differences(op, end)]
    assert keys == [
        ("mtu", 1400),
        ("ipv6", True),
        ("address", "10.0.0.5/24"),
        ("route", ["0.0.0.0/0", "10.0.0.1"]),
    ]
    done = workload_ops.End(
        link=link.__class__(**{**link.__dict__, "mtu": 1400}),
        addresses=frozenset({"10.0.0.5/24", "10.0.0.9/24"}),
        routes=frozenset({("0.0.0.0/0", "10.0.0.1")}),
        ipv6_disabled=0,
    )
    assert workload_ops.differences(op, done) == []


# -- plugins -----------------------------------------------------------------


def test_linux_bridge_plan_puts_the_veth_where_the_tap_was(conf):
    plugin = LinuxBridgePlugin.load("linux_bridge")
    conf.config(create_tap=True, group="os_vif_linux_bridge")
    vif = vifs.bridge_vif(bridge="br100", tap="tap-a1")
    assert plugin.supports_workload(vif)
    plan = plugin.workload_plug_plan(vif, vifs.INSTANCE, END)
    names = [step.NAME for step in plan.kernel]
    assert "ensure_tap" not in names
    assert names[-1] == "ensure_workload_end"
    step = plan.kernel[-1]
    assert (step.get("host"), step.get("master")) == ("tap-a1", "br100")


def test_ovs_supports_workloads_of_veth_types_only(conf):
    plugin = OvsPlugin.load("ovs")
    assert plugin.supports_workload(vifs.ovs_vif())
    assert plugin.supports_workload(vifs.hybrid_vif())
    assert not plugin.supports_workload(vifs.vhostuser_vif())


@pytest.mark.parametrize(
    ("raised", "what"),
    [
        (PermissionError(1, "Operation not permitted"),
         "readable without CAP_SYS_ADMIN"),
        (None, "exists"),
    ],
)
def test_check_of_a_namespace_it_cannot_read_or_that_is_gone(
    monkeypatch, raised, what
):
    import contextlib

    from os_vif.internal import linkstate, netns

    @contextlib.contextmanager
    def entered(reference):
        raise raised if raised is not None else netns.Gone(reference)
        yield  # pragma: no cover

    monkeypatch.setattr(netns, "entered", entered)
    monkeypatch.setattr(linkstate, "read_link", lambda name: None)
    op = kernel.EnsureWorkloadEnd(
        netns="pod1", name="eth0", kind="macvlan", parent="ens3"
    )
    (problem,) = op.check()
    assert (problem.object, problem.what) == ("namespace pod1", what)
    removal = kernel.DeleteWorkloadEnd(netns="pod1", name="eth0")
    if raised is None:
        assert removal.check() == []  # a gone namespace: nothing to remove
    else:
        assert [p.what for p in removal.check()] == [what]
