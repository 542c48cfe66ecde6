"""The workload's end: the comparison of a nested end's parent, the undo a
re-plug records for its repairs (RestoreWorkloadEnd), and the raw reads of
the end (os_vif.internal.inside) decoding what the kernel answers.

Links and answers are made up: unit tests never touch the host.
"""

from __future__ import annotations

import contextlib
import socket

import pytest
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from os_vif import exception
from os_vif.internal import inside, linkstate, netns
from os_vif.internal.kernel import workload
from os_vif.internal.kernel.link import Difference
from os_vif.internal.privileged import workload as applying
from tests.unit.internal.workload_ends import VIF_ID, end_link


def link(**fields) -> linkstate.Link:
    """The end's link, a macvlan unless ``fields`` say otherwise."""
    return end_link(**{"kind": "macvlan", **fields})


def end(parent_index=7, routes=(), addresses=(), **fields) -> workload.End:
    return workload.End(
        link=link(**fields),
        addresses=frozenset(addresses),
        routes=frozenset(routes),
        ipv6_disabled=0,
        parent_index=parent_index,
    )


def macvlan(**extra) -> workload.EnsureWorkloadEnd:
    return workload.EnsureWorkloadEnd(
        netns="pod1", name="eth0", kind="macvlan", parent="ens3",
        mac="fa:16:3e:00:00:01", mtu=1400, vif_id=VIF_ID, **extra,
    )


@pytest.mark.parametrize(
    ("found", "shown"), [(9, "ifindex 9"), (None, "another link")]
)
def test_a_nested_end_on_another_parent_differs(found, shown):
    diffs = workload.differences(macvlan(), end(parent_index=found), 7)
    assert diffs == [Difference("parent", "ens3", shown)]


def test_the_parent_is_compared_only_when_its_index_is_known():
    assert workload.differences(macvlan(), end(parent_index=7), 7) == []
    assert workload.differences(macvlan(), end(parent_index=9)) == []


def test_check_reports_a_nested_end_on_another_parent(monkeypatch):
    host = {"ens3": link(name="ens3", index=7, kind=None)}
    monkeypatch.setattr(
        linkstate, "read_link", lambda name=None, index=0: host.get(name)
    )
    monkeypatch.setattr(
        workload.EnsureWorkloadEnd, "read",
        lambda self, nested: end(parent_index=11 if nested else None),
    )
    (problem,) = macvlan().check()
    assert (problem.object, problem.what) == (
        "device eth0 in namespace pod1", "parent")
    assert (problem.expected, problem.found) == ("ens3", "ifindex 11")


def test_the_daemon_refuses_to_reuse_an_end_on_another_parent():
    with pytest.raises(exception.HostOperationFailed) as caught:
        applying._settle_inside(macvlan(), end(parent_index=9), None, 7)
    assert "parent" in str(caught.value) and "ens3" in str(caught.value)


class Recorder:
    """The part of a Context a settle uses: the undo log."""

    def __init__(self) -> None:
        self.undo_log: list = []

    def record_undo(self, undo) -> None:
        self.undo_log.append(undo)


def test_the_undo_of_repairs_puts_back_what_was_there(monkeypatch):
    sent = []

    class Batch:
        def __init__(self, index):
            self.index = index

        def __getattr__(self, name):
            return lambda *args, **kwargs: sent.append((name, args, kwargs))

    monkeypatch.setattr(applying.addressing, "Requests", Batch)
    monkeypatch.setattr(applying.linkstate, "read_link", lambda name: None)
    monkeypatch.setattr(applying, "_enable_ipv6", lambda op: None)
    op = macvlan(
        addresses=["10.9.0.2/24", "10.8.0.2/24"],
        routes=[["0.0.0.0/0", "10.9.0.1"], ["10.50.0.0/16", None]],
        ipv6=True,
    )
    found = workload.End(
        link=link(mtu=1300, mac="fa:16:3e:aa:bb:cc", up=False),
        addresses=frozenset({"10.8.0.2/24"}),
        routes=frozenset({("0.0.0.0/0", "10.8.0.1")}),
        ipv6_disabled=1,
        parent_index=7,
    )
    ctx = Recorder()
    assert applying._settle_inside(op, found, ctx, 7)
    (undo,) = ctx.undo_log
    assert undo.NAME == "restore_workload_end"
    assert undo.link_wanted() == {
        "mtu": 1300, "mac": "fa:16:3e:aa:bb:cc", "up": False
    }
    assert undo.get("addresses") == ["10.9.0.2/24"]
    assert undo.get("routes") == [
        ["0.0.0.0/0", "10.9.0.1"], ["10.50.0.0/16", None]
    ]
    # The default route through another gateway is replaced: put back.
    assert undo.get("routes_back") == [["0.0.0.0/0", "10.8.0.1"]]
    assert undo.get("ipv6_disabled") is True
    assert undo.get("vif_id") == VIF_ID
    # Recorded before the change: the wire form round-trips.
    assert workload.REGISTRY.from_wire(undo.to_wire()).to_wire() == (
        undo.to_wire())
    assert ("add_address", ("10.9.0.2/24",), {}) in sent
    assert ("send", (), {}) == sent[-1]


def test_nothing_repaired_records_nothing():
    ctx = Recorder()
    assert not applying._settle_inside(macvlan(), end(), ctx, 7)
    assert ctx.undo_log == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("alias", "x" * 200), ("routes", [["10.0.0.0/8"]]),
     ("addresses", ["not-an-address"]), ("mtu", 10)],
)
def test_a_bad_restore_is_refused_naming_its_field(field, value):
    with pytest.raises(exception.InvalidArgument) as caught:
        workload.RestoreWorkloadEnd(
            netns="pod1", name="eth0", **{field: value}
        )
    assert field in caught.value.kwargs["field"]


def test_a_restore_of_a_gone_namespace_has_nothing_to_check(monkeypatch):
    @contextlib.contextmanager
    def entered(reference):
        raise netns.Gone(reference)
        yield  # pragma: no cover

    monkeypatch.setattr(netns, "entered", entered)
    assert workload.RestoreWorkloadEnd(
        netns="pod1", name="eth0", mtu=1300
    ).check() == []


def _encoded(msg, kind: int) -> bytes:
    msg["header"]["type"] = kind
    msg.encode()
    return bytes(msg.data)


def test_addresses_are_read_without_link_local_ones(monkeypatch):
    answers = []
    for family, address, prefix, index in (
        (socket.AF_INET, "10.9.0.2", 24, 2),
        (socket.AF_INET6, "fd09::2", 64, 2),
        (socket.AF_INET6, "fe80::1", 64, 2),
        (socket.AF_INET, "127.0.0.1", 8, 1),
    ):
        msg = ifaddrmsg()
        msg["family"], msg["prefixlen"], msg["index"] = family, prefix, index
        msg["attrs"] = [("IFA_ADDRESS", address)]
        answers.append(_encoded(msg, 20))
    monkeypatch.setattr(inside, "_exchange", lambda *a: iter(answers))
    assert inside.addresses(2) == {"10.9.0.2/24", "fd09::2/64"}


def test_routes_are_those_of_the_main_table_out_of_the_link(monkeypatch):
    answers = []
    for dst, dst_len, gateway, oif, table in (
        (None, 0, "10.9.0.1", 2, 254),
        ("10.9.0.0", 24, None, 2, 254),
        ("10.50.0.0", 16, "10.9.0.7", 3, 254),
        ("10.9.0.2", 32, None, 2, 255),
    ):
        msg = rtmsg()
        msg["family"], msg["dst_len"], msg["table"] = (
            socket.AF_INET, dst_len, table)
        attrs = [("RTA_OIF", oif), ("RTA_TABLE", table)]
        if dst:
            attrs.append(("RTA_DST", dst))
        if gateway:
            attrs.append(("RTA_GATEWAY", gateway))
        msg["attrs"] = attrs
        answers.append(_encoded(msg, 24))
    monkeypatch.setattr(inside, "_exchange", lambda *a: iter(answers))
    assert inside.routes(2, 4) == {
        ("0.0.0.0/0", "10.9.0.1"), ("10.9.0.0/24", None)
    }
