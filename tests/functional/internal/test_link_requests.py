"""The daemon's link requests, on the real kernel (in a throwaway netns).

What each request makes is read back with pyroute2, which encodes and
decodes netlink independently of the requests' own socket handling.
"""

from __future__ import annotations

import errno

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
