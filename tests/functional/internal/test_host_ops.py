"""Host operations on the real kernel, through the real privsep daemons.

Each test runs in a fresh network namespace; the daemon of the family used
is started inside it.  Results are read back with pyroute2 and /proc/sys.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns
from pyroute2.netlink.exceptions import NetlinkError

from os_vif import exception
from os_vif.internal import host_ops as h
from os_vif.sandbox import netns as netns_fixture


@pytest.fixture
def ipr(netns) -> Iterator[IPRoute]:
    with IPRoute() as sock:
        yield sock


def get(ipr: IPRoute, name: str):
    try:
        return ipr.link("get", ifname=name)[0]
    except NetlinkError:
        return None


def tun_data(link) -> dict:
    return dict(link.get(("linkinfo", "data"))["attrs"])


@pytest.mark.parametrize("family", [h.LINUX_BRIDGE, h.OVS], ids=str)
def test_tap_plain_and_multiqueue(ipr, family):
    assert family.run(
        [
            h.ensure_bridge("br0"),
            h.ensure_tap("tap-mq", multiqueue=True, mtu=9000, master="br0",
                         mac="fe:16:3e:00:00:01"),
            h.ensure_tap("tap-sq", up=False),
        ]
    ) == [True, True, True]
    mq, sq = get(ipr, "tap-mq"), get(ipr, "tap-sq")
    assert tun_data(mq)["IFLA_TUN_MULTI_QUEUE"] == 1
    assert tun_data(mq)["IFLA_TUN_PERSIST"] == 1
    assert tun_data(sq)["IFLA_TUN_MULTI_QUEUE"] == 0
    assert mq.get("mtu") == 9000 and mq["flags"] & 1
    assert mq.get("address") == "fe:16:3e:00:00:01"
    assert mq.get("master") == get(ipr, "br0")["index"]
    assert mq.get("ifalias") == sq.get("ifalias") == "os-vif"
    assert not sq["flags"] & 1
    # Again: nothing to change.
    assert family.run(
        [h.ensure_tap("tap-mq", multiqueue=True, mtu=9000, master="br0")]
    ) == [False]


def test_veth_pair_and_stale_end(ipr):
    assert h.OVS.run_step(h.ensure_veth("qvb0", "qvo0", mtu=1400))
    for name in ("qvb0", "qvo0"):
        link = get(ipr, name)
        assert link.get(("linkinfo", "kind")) == "veth"
        assert link.get("mtu") == 1400 and link["flags"] & 1
        assert h.get_device(name).made_by_os_vif
    assert not h.OVS.run_step(h.ensure_veth("qvb0", "qvo0", mtu=1400))
    # A leftover single end is replaced by a fresh pair.
    ipr.link("del", ifname="qvb0")
    ipr.link("add", ifname="qvb1", kind="veth", peer="qvo1")
    ipr.link("del", ifname="qvo1")
    assert h.OVS.run_step(h.ensure_veth("qvb0", "qvo0"))
    assert get(ipr, "qvo0") is not None


def test_veth_end_joins_its_bridge(ipr):
    h.OVS.run_step(h.ensure_bridge("qbr0"))
    h.OVS.run_step(h.ensure_bridge("qbr1"))
    assert h.OVS.run_step(
        h.ensure_veth("qvb0", "qvo0", mtu=1400, master="qbr0")
    )
    assert h.get_device("qvb0").master == "qbr0"
    assert h.get_device("qvo0").master is None
    assert h.get_device("qvo0").up and h.get_device("qvb0").made_by_os_vif
    assert not h.OVS.run_step(
        h.ensure_veth("qvb0", "qvo0", mtu=1400, master="qbr0")
    )
    # An existing pair is moved to the bridge asked for.
    assert h.OVS.run_step(h.ensure_veth("qvb0", "qvo0", master="qbr1"))
    assert h.get_device("qvb0").master == "qbr1"
    with pytest.raises(exception.InvalidArgument) as caught:
        h.OVS.run_step(h.ensure_veth("qvb0", "qvo0", master="qvo0"))
    assert caught.value.kwargs["field"] == "ensure_veth.master"


def test_veth_with_a_missing_bridge_leaves_nothing(ipr):
    with pytest.raises(exception.NetworkInterfaceNotFound):
        h.OVS.run_step(h.ensure_veth("qvb0", "qvo0", master="qbr-none"))
    assert get(ipr, "qvb0") is None and get(ipr, "qvo0") is None


def test_bridge_for_hybrid_plug(ipr):
    h.OVS.run(
        [
            h.ensure_bridge("qbr0", mtu=1450, disable_ipv6=True),
            h.set_sysctl("qbr0", "ipv4", "arp_ignore", 1),
            h.set_sysctl("qbr0", "ipv4", "arp_announce", 2),
        ]
    )
    data = dict(get(ipr, "qbr0").get(("linkinfo", "data"))["attrs"])
    assert data["IFLA_BR_STP_STATE"] == 0
    assert data["IFLA_BR_FORWARD_DELAY"] == 0
    assert h.read_sysctl("qbr0", "ipv6", "disable_ipv6") == 1
    assert h.read_sysctl("qbr0", "ipv4", "arp_ignore") == 1
    assert h.read_sysctl("qbr0", "ipv4", "arp_announce") == 2


def test_macvlan_and_macvtap(ipr):
    ipr.link("add", ifname="lower0", kind="veth", peer="lower0p")
    h.LINUX_BRIDGE.run(
        [
            h.ensure_macvlan("mvl0", "lower0", mode="bridge", mtu=1400),
            h.ensure_macvlan("mvt0", "lower0", macvtap=True, mode="vepa"),
        ]
    )
    assert get(ipr, "mvl0").get(("linkinfo", "kind")) == "macvlan"
    assert get(ipr, "mvt0").get(("linkinfo", "kind")) == "macvtap"
    assert get(ipr, "mvl0").get("link") == get(ipr, "lower0")["index"]
    with pytest.raises(exception.HostOperationFailed):
        h.LINUX_BRIDGE.run([h.ensure_macvlan("mvt0", "lower0")])


def test_vlan_device_or_skip(ipr):
    ipr.link("add", ifname="lower0", kind="veth", peer="lower0p")
    try:
        h.LINUX_BRIDGE.run([h.ensure_vlan("lower0.5", "lower0", 5)])
    except exception.HostOperationFailed as err:
        if "Operation not supported" in str(err):
            pytest.skip("this kernel has no 802.1Q (CONFIG_VLAN_8021Q)")
        raise
    data = dict(get(ipr, "lower0.5").get(("linkinfo", "data"))["attrs"])
    assert data["IFLA_VLAN_ID"] == 5


def test_set_link_and_release(ipr):
    h.LINUX_BRIDGE.run([h.ensure_bridge("br0"), h.ensure_tap("t0")])
    h.LINUX_BRIDGE.run_step(
        h.set_link("t0", mtu=1300, mac="02:00:00:00:00:07", master="br0")
    )
    link = get(ipr, "t0")
    assert link.get("mtu") == 1300
    assert link.get("address") == "02:00:00:00:00:07"
    assert h.get_device("t0").master == "br0"
    assert h.bridge_ports("br0") == ["t0"]
    h.LINUX_BRIDGE.run_step(h.set_link("t0", nomaster=True, up=False))
    assert h.get_device("t0").master is None
    assert not h.get_device("t0").up


def test_delete_is_idempotent(ipr):
    assert h.LINUX_BRIDGE.run_step(h.ensure_tap("t0"))
    assert h.LINUX_BRIDGE.run_step(h.delete_device("t0"))
    assert not h.LINUX_BRIDGE.run_step(h.delete_device("t0"))
    assert not h.device_exists("t0")


@contextlib.contextmanager
def other_netns() -> Iterator[str]:
    name = "osvif-other-%s" % id(object())
    pyroute2_netns.create(name)
    try:
        yield name
    finally:
        pyroute2_netns.remove(name)


def test_move_to_netns(ipr):
    with other_netns() as target:
        h.LINUX_BRIDGE.run(
            [h.ensure_veth("c0", "c0p"), h.move_to_netns("c0p", target)]
        )
        assert get(ipr, "c0p") is None
        assert "c0p" in netns_fixture.Namespace(target).link_names()
        # Already moved: nothing to do.
        assert h.LINUX_BRIDGE.run([h.move_to_netns("c0p", target)]) == [False]


def test_sysctl_allow_list(ipr):
    h.LINUX_BRIDGE.run_step(h.ensure_bridge("br0"))
    with pytest.raises(exception.InvalidArgument):
        h.LINUX_BRIDGE.run_step(h.set_sysctl("br0", "ipv4", "arp_ignore", 9))
    with pytest.raises(exception.InvalidArgument):
        h.LINUX_BRIDGE.run_step(
            h.Step("set_sysctl", {"name": "br0", "family": "ipv4",
                                  "key": "forwarding", "value": 1})
        )
