"""The comparisons of wanted and actual that check and apply share, one
per family (links are made up here; the master lookup is faked)."""

from __future__ import annotations

import pytest

from os_vif.host_state import Problem
from os_vif.internal import linkstate
from os_vif.internal.kernel import firewall, sysctl, vf
from os_vif.internal.kernel import link as link_family
from os_vif.internal.kernel.link import Difference


def make(name: str = "tap0", index: int = 7, **fields) -> linkstate.Link:
    values = {
        "kind": "tun",
        "mtu": 1500,
        "mac": "fe:16:3e:00:00:01",
        "up": True,
        "master_index": 0,
        "alias": None,
        "vlan_id": None,
    }
    values.update(fields)
    return linkstate.Link(name=name, index=index, **values)


@pytest.fixture
def bridges(monkeypatch):
    """br0 (index 3) and br1 (index 4) exist; nothing else by index."""
    table = {3: make("br0", 3, kind="bridge"), 4: make("br1", 4)}

    def read_link(name=None, index=0):
        return table.get(index) if name is None else None

    monkeypatch.setattr(linkstate, "read_link", read_link)
    return table


def test_nothing_wanted_nothing_differs(bridges):
    assert link_family.differences(make(master_index=3)) == []


def test_each_attribute_that_differs(bridges):
    found = link_family.differences(
        make(master_index=3),
        mtu=9000,
        mac="fe:16:3e:00:00:02",
        up=False,
        master="br1",
        alias="os-vif",
    )
    assert found == [
        Difference("alias", "os-vif", None),
        Difference("mtu", 9000, 1500),
        Difference("mac", "fe:16:3e:00:00:02", "fe:16:3e:00:00:01"),
        Difference("up", False, True),
        Difference("master", "br1", "br0"),
    ]


def test_same_values_do_not_differ(bridges):
    assert (
        link_family.differences(
            make(master_index=3, mac="FE:16:3E:00:00:01"),
            mtu=1500,
            mac="fe:16:3e:00:00:01",
            up=True,
            master="br0",
        )
        == []
    )


def test_nomaster_releases_even_a_vanished_master(bridges):
    assert link_family.differences(make(), nomaster=True) == []
    assert link_family.differences(make(master_index=3), nomaster=True) == [
        Difference("master", None, "br0")
    ]
    # The master's index no longer names a device: still one to release.
    assert link_family.differences(make(master_index=99), nomaster=True) == [
        Difference("master", None, None)
    ]


def test_the_checks_problems_are_the_differences(bridges):
    assert link_family.problems("tap0", None, "tun", mtu=1400) == [
        Problem("device tap0", "exists", True, False)
    ]
    assert link_family.problems(
        "tap0", make(kind="veth", master_index=4), "tun", mtu=1400,
        master="br0",
    ) == [
        Problem("device tap0", "kind", "tun", "veth"),
        Problem("device tap0", "mtu", 1400, 1500),
        Problem("device tap0", "master", "br0", "br1"),
    ]


@pytest.mark.parametrize(
    "family, wanted, found, ipv6_in_kernel, differs",
    [
        ("ipv6", 1, 1, True, False),
        ("ipv6", 1, 0, True, True),
        # Absent: the device's directory is missing, a write would fail.
        ("ipv6", 1, None, True, True),
        # A kernel without IPv6 has nothing to turn off.
        ("ipv6", 1, None, False, False),
        ("ipv4", 1, None, False, True),
        ("ipv4", 2, 2, True, False),
    ],
)
def test_sysctl_differs_as_check_and_apply_judge(
    monkeypatch, family, wanted, found, ipv6_in_kernel, differs
):
    monkeypatch.setattr(
        sysctl.os.path, "isdir", lambda path: ipv6_in_kernel
    )
    assert sysctl.differs(family, wanted, found) is differs


def test_vf_differences_leave_out_the_vf_number():
    spec = {"vf": 3, "mac": "fa:16:3e:00:00:01", "vlan": 0, "trust": 1}
    current = {"mac": "fa:16:3e:00:00:02", "vlan": 0}
    assert vf.differences(spec, current) == {
        "mac": "fa:16:3e:00:00:01",
        "trust": 1,
    }
    assert vf.as_arguments({"trust": 0, "link_state": 2, "vlan": 5}) == {
        "trust": False,
        "link_state": "disable",
        "vlan": 5,
    }


def test_firewall_rules_compare_per_family_in_any_order():
    wanted = ["os-vif:br0 br0>* ACCEPT", "os-vif:br0 *>br0 ACCEPT"]
    assert firewall.same_rules(list(reversed(wanted)), wanted)
    assert not firewall.same_rules(wanted[:1], wanted)
    assert not firewall.same_rules(wanted + wanted[:1], wanted)
