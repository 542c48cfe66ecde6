"""The daemon's link requests, on the real kernel (in a throwaway netns).

What each request makes is read back with pyroute2, which encodes and
decodes netlink independently of the requests' own socket handling.
"""

from __future__ import annotations

import errno
import os
import threading

import pytest
from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from os_vif.internal.privileged import netlink

pytestmark = pytest.mark.functional


def _link(ipr: IPRoute, name: str):  # type: ignore[no-untyped-def]
    return ipr.link("get", index=ipr.link_lookup(ifname=name)[0])[0]


def test_bridge_and_veth_made_set_and_deleted(netns) -> None:
    with netlink.links() as requests, IPRoute() as ipr:
        requests.add(
            "br-lr",
            "bridge",
            mtu=1400,
            data=(("IFLA_BR_STP_STATE", 0), ("IFLA_BR_FORWARD_DELAY", 0)),
        )
        bridge = _link(ipr, "br-lr")
        info = bridge.get(("linkinfo", "data"))
        assert bridge.get(("linkinfo", "kind")) == "bridge"
        assert info.get("IFLA_BR_STP_STATE") == 0
        assert info.get("IFLA_BR_FORWARD_DELAY") == 0
        assert bridge.get("mtu") == 1400 and not bridge["flags"] & 1

        requests.add(
            "ve-lr0",
            "veth",
            mtu=1400,
            up=True,
            master=bridge["index"],
            peer=(("IFLA_IFNAME", "ve-lr1"), ("IFLA_MTU", 1400)),
        )
        end, peer = _link(ipr, "ve-lr0"), _link(ipr, "ve-lr1")
        assert end.get("master") == bridge["index"] and end["flags"] & 1
        assert end.get("mtu") == peer.get("mtu") == 1400
        assert not peer["flags"] & 1

        requests.set(
            peer["index"],
            alias="os-vif",
            mtu=1300,
            mac="fa:16:3e:00:00:01",
            up=True,
        )
        requests.set(end["index"], master=0, up=False)
        peer, end = _link(ipr, "ve-lr1"), _link(ipr, "ve-lr0")
        assert peer.get("ifalias") == "os-vif" and peer["flags"] & 1
        assert peer.get("mtu") == 1300
        assert peer.get("address") == "fa:16:3e:00:00:01"
        assert not end.get("master") and not end["flags"] & 1

        requests.delete(end["index"])
        requests.delete(end["index"])  # gone already: fine
        requests.delete(bridge["index"])
        assert not ipr.link_lookup(ifname="ve-lr1")
        assert not ipr.link_lookup(ifname="br-lr")


def test_refusals_are_netlink_errors_and_the_socket_goes_on(netns) -> None:
    with netlink.links() as requests, IPRoute() as ipr:
        requests.add("br-lr", "bridge")
        with pytest.raises(NetlinkError) as caught:
            requests.add("br-lr", "bridge")
        assert caught.value.code == errno.EEXIST
        with pytest.raises(NetlinkError) as caught:
            requests.set(_link(ipr, "br-lr")["index"], mtu=10)
        assert caught.value.code == errno.EINVAL
        with pytest.raises(NetlinkError) as caught:
            requests.set(999999, up=True)
        assert caught.value.code == errno.ENODEV
        # Each answer was matched to its request: the next one works.
        requests.set(_link(ipr, "br-lr")["index"], up=True)
        assert _link(ipr, "br-lr")["flags"] & 1


def _deletions_running() -> list[threading.Thread]:
    return [
        thread for thread in threading.enumerate()
        if thread.name == "os-vif-link-deletion"
    ]


def _wait_for_deletions() -> None:
    for thread in _deletions_running():
        thread.join(timeout=10)
    assert not _deletions_running()


def _veth_pair(ipr: IPRoute, name: str, address: str) -> tuple[int, int]:
    """A veth pair, both ends up, one addressed: devices the kernel keeps
    references to for a while after they are unlisted."""
    ipr.link("add", ifname=name, kind="veth", peer={"ifname": name + "p"})
    end, peer = (ipr.link_lookup(ifname=n)[0] for n in (name, name + "p"))
    ipr.link("set", index=end, state="up")
    ipr.link("set", index=peer, state="up")
    ipr.addr("add", index=peer, address=address, prefixlen=24)
    return end, peer


def test_deletion_returns_once_the_devices_are_unlisted(netns) -> None:
    _wait_for_deletions()
    with netlink.links():
        pass  # its socket (kept per namespace) is open before counting
    descriptors = len(os.listdir("/proc/self/fd"))
    returned_before_the_kernel = 0
    with netlink.links() as requests, IPRoute() as ipr:
        for i in range(10):
            name = "ve-dl%d" % i
            end, _peer = _veth_pair(ipr, name, "10.7.%d.1" % i)
            requests.delete(end)
            # Both ends are gone from every view: links, names, sysfs.
            assert not ipr.link_lookup(ifname=name)
            assert not ipr.link_lookup(ifname=name + "p")
            assert not os.path.exists("/sys/class/net/" + name)
            assert not os.path.exists("/sys/class/net/%sp" % name)
            returned_before_the_kernel += bool(_deletions_running())
            # The name is free at once.
            _veth_pair(ipr, name, "10.7.%d.1" % i)
            requests.delete(ipr.link_lookup(ifname=name)[0])
    # The kernel answers a veth's deletion tens of milliseconds after it
    # unlisted both ends: a deletion that waited for the answer would
    # never leave its thread behind.
    assert returned_before_the_kernel > 0
    _wait_for_deletions()
    assert len(os.listdir("/proc/self/fd")) == descriptors


def test_deletions_beyond_the_draining_slots(netns) -> None:
    count = netlink.MAX_DRAINING + 16
    with netlink.links() as requests, IPRoute() as ipr:
        ends = [
            _veth_pair(ipr, "ve-db%d" % i, "10.8.%d.1" % (i % 250))[0]
            for i in range(count)
        ]
        for end in ends:
            requests.delete(end)
        assert not [
            link for link in ipr.get_links()
            if link.get_attr("IFLA_IFNAME", "").startswith("ve-db")
        ]
    _wait_for_deletions()


def test_refused_deletion_is_a_netlink_error(netns) -> None:
    with netlink.links() as requests, IPRoute() as ipr:
        lo = ipr.link_lookup(ifname="lo")[0]
        with pytest.raises(NetlinkError) as caught:
            requests.delete(lo)
        assert caught.value.code == errno.EOPNOTSUPP
        assert ipr.link_lookup(ifname="lo") == [lo]
        requests.delete(999999)  # no such link: nothing to do


def test_group_deletion_returns_once_all_are_unlisted(netns) -> None:
    with IPRoute() as ipr:
        ends = [
            _veth_pair(ipr, "ve-dg%d" % i, "10.6.%d.1" % i)[0]
            for i in range(5)
        ]
        netlink.set_group(ends, 4242)
        netlink.delete_group(4242, ends)
        assert not [
            link for link in ipr.get_links()
            if link.get_attr("IFLA_IFNAME", "").startswith("ve-dg")
        ]
        netlink.delete_group(4242, ends)  # an empty group: nothing to do
    _wait_for_deletions()
