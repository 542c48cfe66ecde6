"""The workload end's raw requests (privileged.addressing): each message
as pyroute2's own message classes decode it, and the refusals of a send
(the send itself is faked: unit tests never touch the host)."""

from __future__ import annotations

import errno
import socket
import struct

import pytest
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from os_vif.internal.privileged import addressing, netlink


def sent(batch: addressing.Requests, monkeypatch, codes=None) -> list:
    """The messages ``batch`` sends, decoded; the kernel answers
    ``codes`` (all done by default)."""
    captured = []

    def send_batch(data, count):
        captured.append((data, count))
        return list(codes or [0] * count)

    monkeypatch.setattr(netlink, "send_batch", send_batch)
    batch.send()
    ((data, count),) = captured
    messages, offset = [], 0
    while offset < len(data):
        length, kind = struct.unpack_from("=IH", data, offset)
        cls = {16: ifinfmsg, 20: ifaddrmsg, 21: ifaddrmsg}.get(kind, rtmsg)
        msg = cls(data[offset : offset + length])
        msg.decode()
        messages.append(msg)
        offset += (length + 3) & ~3
    assert offset == len(data) and len(messages) == count
    return messages


def test_a_veth_is_born_in_the_namespace_with_its_mac_and_mtu(monkeypatch):
    batch = addressing.Requests()
    batch.new_veth(
        "tap0", "eth0", netns_fd=9, mtu=1450, mac="fa:16:3e:00:00:01",
        master=4,
    )
    batch.set_link(name="tap0", alias="os-vif")
    create, mark = sent(batch, monkeypatch)
    assert create["header"]["flags"] == 0x1 | 0x4 | 0x400 | 0x200
    assert create["flags"] & 1 and create["change"] & 1  # host end up
    assert create.get_attr("IFLA_IFNAME") == "tap0"
    assert create.get_attr("IFLA_MTU") == 1450
    assert create.get_attr("IFLA_MASTER") == 4
    info = create.get_attr("IFLA_LINKINFO")
    assert info.get_attr("IFLA_INFO_KIND") == "veth"
    peer = info.get_attr("IFLA_INFO_DATA").get_attr("VETH_INFO_PEER")
    assert peer.get_attr("IFLA_IFNAME") == "eth0"
    assert peer.get_attr("IFLA_NET_NS_FD") == 9
    assert peer.get_attr("IFLA_ADDRESS") == "fa:16:3e:00:00:01"
    assert peer.get_attr("IFLA_MTU") == 1450
    assert mark["index"] == 0 and mark.get_attr("IFLA_IFNAME") == "tap0"
    assert mark.get_attr("IFLA_IFALIAS") == "os-vif"
    assert not mark["header"]["flags"] & 0x400  # a change, no creation


@pytest.mark.parametrize(
    "kind,vlan,data",
    [("macvlan", None, ("IFLA_MACVLAN_MODE", "bridge")),
     ("vlan", 100, ("IFLA_VLAN_ID", 100))],
)
def test_a_nested_end_is_born_in_the_namespace(monkeypatch, kind, vlan, data):
    batch = addressing.Requests()
    batch.new_nested(
        "eth0", kind, lower=3, netns_fd=9, mtu=1400,
        mac="fa:16:3e:00:00:02", vlan=vlan,
    )
    (create,) = sent(batch, monkeypatch)
    assert create.get_attr("IFLA_LINK") == 3
    assert create.get_attr("IFLA_NET_NS_FD") == 9
    assert create.get_attr("IFLA_ADDRESS") == "fa:16:3e:00:00:02"
    info = create.get_attr("IFLA_LINKINFO")
    assert info.get_attr("IFLA_INFO_KIND") == kind
    assert info.get_attr("IFLA_INFO_DATA").get_attr(data[0]) == data[1]


def test_addresses_and_routes_of_both_versions(monkeypatch):
    batch = addressing.Requests(5)
    batch.set_link(alias="os-vif", up=True, mtu=1400)
    batch.add_address("10.9.0.2/24")
    batch.add_address("fd00::2/64")
    batch.replace_route("0.0.0.0/0", "10.9.0.1")
    batch.replace_route("fd01::/64", None)
    link, v4, v6, default, onlink = sent(batch, monkeypatch)
    assert (link["index"], link["flags"], link["change"]) == (5, 1, 1)
    assert link.get_attr("IFLA_MTU") == 1400
    assert (v4["family"], v4["prefixlen"], v4["index"]) == (
        socket.AF_INET, 24, 5)
    assert v4.get_attr("IFA_LOCAL") == v4.get_attr("IFA_ADDRESS") == (
        "10.9.0.2")
    assert v4["flags"] == 0
    assert v6.get_attr("IFA_ADDRESS") == "fd00::2" and v6["flags"] == 0x02
    assert default["dst_len"] == 0 and default.get_attr("RTA_DST") is None
    assert default.get_attr("RTA_GATEWAY") == "10.9.0.1"
    assert (default["table"], default["proto"], default["scope"]) == (
        254, 4, 0)
    assert default["header"]["flags"] & 0x100  # replace
    assert onlink["family"] == socket.AF_INET6
    assert onlink.get_attr("RTA_DST") == "fd01::"
    assert onlink["dst_len"] == 64 and onlink["scope"] == 253
    assert onlink.get_attr("RTA_OIF") == 5


def test_the_first_refusal_is_raised_naming_the_request(monkeypatch):
    batch = addressing.Requests(5)
    batch.add_address("10.9.0.2/24")
    batch.replace_route("10.50.0.0/16", "10.9.0.7")
    with pytest.raises(addressing.Refused) as caught:
        sent(batch, monkeypatch, codes=[0, errno.ENETUNREACH])
    assert caught.value.code == errno.ENETUNREACH
    assert "route 10.50.0.0/16 via 10.9.0.7" in str(caught.value)


def test_an_undo_goes_on_past_what_is_gone_already(monkeypatch):
    batch = addressing.Requests(5)
    batch.delete_route("0.0.0.0/0", "10.9.0.1")
    batch.delete_address("10.9.0.2/24")
    batch.set_link(mtu=1500)
    monkeypatch.setattr(
        netlink, "send_batch",
        lambda data, count: [errno.ESRCH, errno.EADDRNOTAVAIL, errno.EPERM],
    )
    (refused,) = batch.send(strict=False)
    assert refused.code == errno.EPERM


def test_nothing_to_send_sends_nothing(monkeypatch):
    monkeypatch.setattr(
        netlink, "send_batch", lambda data, count: pytest.fail("sent")
    )
    assert addressing.Requests(5).send() == []
