"""The VLAN device path, on a fake netlink socket.

This kernel has no 802.1Q support, so the functional VLAN test skips; the
fake stands in for the thinnest layer (the rtnetlink socket: the daemon's
link requests and linkstate's reads) and checks the requests made and the
idempotency and rollback logic around them.  How linkstate decodes a VLAN
device's answer is checked against pyroute2's own encoding below.
"""

from __future__ import annotations

import contextlib
import errno

import pytest
from pyroute2.netlink.exceptions import NetlinkError

from os_vif import exception
from os_vif.internal import linkstate, ownership
from os_vif.internal.privileged import executor, netlink


class FakeLink(dict):
    def get(self, key, default=None):
        if key == ("linkinfo", "kind"):
            return self["kind"]
        if key == ("linkinfo", "data"):
            return {"IFLA_VLAN_ID": self.get("vlan_id")}
        return super().get(key, default)


class FakeLinks:
    def __init__(self):
        self.links = {}
        self.requests = []
        self.next_index = 1
        self._add("eth1", None)

    def _add(self, name, kind, **attrs):
        defaults = dict(
            ifname=name, index=self.next_index, kind=kind, flags=0,
            mtu=1500, address="52:54:00:00:00:%02x" % self.next_index,
            master=0,
        )
        link = FakeLink(defaults, **attrs)
        self.next_index += 1
        self.links[name] = link

    def _find(self, ifname=None, index=None):
        for link in self.links.values():
            if link["ifname"] == ifname or link["index"] == index:
                return link
        raise NetlinkError(errno.ENODEV, "No such device")

    def read_link(self, name=None, index=0):
        """What linkstate.read_link answers, from the fake's table."""
        try:
            link = self._find(ifname=name, index=index or None)
        except NetlinkError:
            return None
        return linkstate.Link(
            name=link["ifname"],
            index=link["index"],
            kind=link["kind"],
            mtu=link["mtu"],
            mac=link["address"],
            up=bool(link["flags"] & 1),
            master_index=link["master"],
            alias=link.get("ifalias"),
            vlan_id=link.get("vlan_id"),
        )

    def ports_of(self, index):
        """What linkstate.ports_of answers: the links mastered by index."""
        return [
            self.read_link(link["ifname"])
            for link in list(self.links.values())
            if link["master"] == index
        ]

    # What os_vif.internal.privileged.netlink.LinkRequests offers.

    def add(self, name, kind, *, mtu=None, up=False, master=None,
            lower=None, data=(), peer=()):
        self.requests.append(
            ("add", {"name": name, "kind": kind, "lower": lower,
                     "data": dict(data)})
        )
        if name in self.links:
            raise NetlinkError(errno.EEXIST, "File exists")
        attrs = {"vlan_id": dict(data).get("IFLA_VLAN_ID")}
        if mtu is not None:
            attrs["mtu"] = mtu
        self._add(name, kind, flags=1 if up else 0,
                  master=master or 0, **attrs)

    def set(self, index, *, alias=None, mtu=None, mac=None, up=None,
            master=None):
        changes = {
            key: value
            for key, value in (("ifalias", alias), ("mtu", mtu),
                               ("address", mac), ("master", master))
            if value is not None
        }
        if up is not None:
            changes["flags"] = 1 if up else 0
        self.requests.append(("set", dict(changes, index=index)))
        self._find(index=index).update(changes)

    def delete(self, index):
        self.requests.append(("del", {"index": index}))
        try:
            link = self._find(index=index)
        except NetlinkError:
            return
        del self.links[link["ifname"]]


@pytest.fixture
def fake(monkeypatch):
    ipr = FakeLinks()

    @contextlib.contextmanager
    def links():
        yield ipr

    monkeypatch.setattr(netlink, "links", links)
    monkeypatch.setattr(linkstate, "read_link", ipr.read_link)
    monkeypatch.setattr(linkstate, "ports_of", ipr.ports_of)
    return ipr


def _execute(steps):
    """Run one group in this process; raise its error, as the client does."""
    import uuid

    from os_vif.internal.privileged import context

    result = executor.execute({"id": uuid.uuid4().hex, "groups": [steps]})[0]
    if "error" in result:
        raise context.rebuild(result["error"])
    return result["changed"]


def test_vlan_device_is_made_marked_and_attached(fake):
    fake._add("br0", "bridge")
    result = _execute(
        [["ensure_vlan", {"name": "vlan42", "link": "eth1", "vlan": 42,
                          "mtu": 1400, "master": "br0"}]]
    )
    assert result == [True]
    add = [r for r in fake.requests if r[0] == "add"]
    assert add == [
        ("add", {"name": "vlan42", "kind": "vlan",
                 "lower": fake.links["eth1"]["index"],
                 "data": {"IFLA_VLAN_ID": 42}})
    ]
    vlan = fake.links["vlan42"]
    assert vlan["ifalias"] == ownership.OS_VIF_ALIAS
    assert vlan["master"] == fake.links["br0"]["index"]
    assert vlan["mtu"] == 1400 and vlan["flags"] == 1


def test_existing_vlan_device_is_left_alone(fake):
    fake._add("vlan42", "vlan", vlan_id=42, flags=1)
    assert _execute(
        [["ensure_vlan", {"name": "vlan42", "link": "eth1", "vlan": 42}]]
    ) == [False]
    assert fake.requests == []


def test_vlan_device_for_another_vlan_is_an_error(fake):
    fake._add("vlan42", "vlan", vlan_id=7)
    with pytest.raises(exception.HostOperationFailed) as caught:
        _execute(
            [["ensure_vlan", {"name": "vlan42", "link": "eth1", "vlan": 42}]]
        )
    assert "VLAN 7" in str(caught.value)


def test_missing_lower_device(fake):
    with pytest.raises(exception.NetworkInterfaceNotFound):
        _execute(
            [["ensure_vlan", {"name": "vlan42", "link": "eth9", "vlan": 42}]]
        )
    assert "vlan42" not in fake.links


def test_failure_after_vlan_removes_it(fake):
    with pytest.raises(exception.NetworkInterfaceNotFound):
        _execute(
            [
                ["ensure_vlan", {"name": "vlan42", "link": "eth1",
                                 "vlan": 42}],
                ["set_link", {"name": "vlan42", "master": "nobr"}],
            ]
        )
    assert "vlan42" not in fake.links


def test_unused_bridge_goes_with_the_vlan_device_os_vif_made(fake):
    fake._add("br0", "bridge", ifalias=ownership.OS_VIF_ALIAS)
    fake._add(
        "vlan42", "vlan", vlan_id=42, ifalias=ownership.OS_VIF_ALIAS,
        master=fake.links["br0"]["index"],
    )
    assert _execute(
        [["remove_bridge_if_unused", {"name": "br0", "uplinks": ["vlan42"]}]]
    ) == [True]
    assert "br0" not in fake.links and "vlan42" not in fake.links
    assert "eth1" in fake.links


def test_linkstate_decodes_the_vlan_id_pyroute2_encodes():
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    msg = ifinfmsg()
    msg["index"] = 7
    msg["flags"] = 1
    msg["attrs"] = [
        ("IFLA_IFNAME", "vlan42"),
        ("IFLA_MTU", 1400),
        ("IFLA_MASTER", 3),
        ("IFLA_IFALIAS", "os-vif"),
        (
            "IFLA_LINKINFO",
            {
                "attrs": [
                    ("IFLA_INFO_KIND", "vlan"),
                    ("IFLA_INFO_DATA", {"attrs": [("IFLA_VLAN_ID", 42)]}),
                ]
            },
        ),
    ]
    msg["header"]["type"] = 16
    msg.encode()
    link = linkstate.decode_link(bytes(msg.data))
    assert link == linkstate.Link(
        name="vlan42",
        index=7,
        kind="vlan",
        mtu=1400,
        mac=None,
        up=True,
        master_index=3,
        alias="os-vif",
        vlan_id=42,
    )


def test_the_vlan_request_is_what_pyroute2_encodes(monkeypatch):
    # This kernel cannot make a VLAN device: compare the request the
    # daemon sends with the one pyroute2's own API builds for it.
    from pyroute2 import IPBatch
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    sent = []

    class Socket:
        def send(self, data):
            sent.append(bytes(data))

        def recv(self, size):
            header = ifinfmsg()  # any message: only its header is read
            header["header"]["type"] = 2  # NLMSG_ERROR
            header["header"]["sequence_number"] = requests._sequence
            header.encode()
            return bytes(header.data[:16]) + b"\0" * 4

        def close(self):
            pass

    # Made without its constructor, which opens a netlink socket: the
    # fake socket above is the kernel here.
    requests = netlink.LinkRequests.__new__(netlink.LinkRequests)
    requests._socket = Socket()
    requests._sequence = 0
    requests.add(
        "vlan42", "vlan", mtu=1400, lower=3, data=(("IFLA_VLAN_ID", 42),)
    )
    # pyroute2's request compiler, on a socket pair instead of the netlink
    # socket IPBatch() opens (it sends nothing: requests go to its buffer).
    import socket

    from pyroute2 import IPRoute

    class Batch(IPBatch):
        def __init__(self, sock):
            IPRoute.__init__(self, use_socket=sock)
            self.reset()

    ends = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    batch = Batch(ends[0])
    batch.link("add", ifname="vlan42", kind="vlan", mtu=1400, link=3,
               vlan_id=42)

    def decoded(data):
        msg = ifinfmsg(data)
        msg.decode()
        linkinfo = msg.get_attr("IFLA_LINKINFO")
        return (
            msg["header"]["type"],
            msg.get_attr("IFLA_IFNAME"),
            msg.get_attr("IFLA_MTU"),
            msg.get_attr("IFLA_LINK"),
            linkinfo.get_attr("IFLA_INFO_KIND"),
            linkinfo.get_attr("IFLA_INFO_DATA").get_attr("IFLA_VLAN_ID"),
        )

    assert decoded(sent[0]) == decoded(bytes(batch.batch))
    assert decoded(sent[0]) == (16, "vlan42", 1400, 3, "vlan", 42)
    batch.close()
    for end in ends:
        end.close()
