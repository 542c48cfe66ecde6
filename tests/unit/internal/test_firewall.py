"""The firewall rules os_vif asks for, and how they are encoded."""

from __future__ import annotations

import socket

from os_vif.internal.kernel import firewall
from os_vif.internal.privileged import firewall as writes


def test_all_interfaces():
    assert firewall.forwarding_rules("br0", [], "DROP") == [
        ("br0", None, "ACCEPT"),
        (None, "br0", "ACCEPT"),
    ]


def test_listed_interfaces_then_drop():
    assert firewall.forwarding_rules("br0", ["eth1"], "REJECT") == [
        ("br0", "eth1", "ACCEPT"),
        ("eth1", "br0", "ACCEPT"),
        ("br0", "br0", "ACCEPT"),
        ("br0", None, "REJECT"),
        (None, "br0", "REJECT"),
    ]


def _names(expressions):
    return [e["attrs"][0][1] for e in expressions]


def test_expressions_match_iptables_nft_encoding():
    accept = writes._expressions(socket.AF_INET, ("br0", None, "ACCEPT"))
    assert _names(accept) == ["meta", "cmp", "immediate"]
    data = accept[1]["attrs"][1][1]["attrs"]
    value = dict(data)["NFTA_CMP_DATA"]["attrs"][0][1]
    assert value == b"br0" + b"\0" * 13
    both = writes._expressions(socket.AF_INET, ("br0", "eth1", "DROP"))
    assert _names(both) == ["meta", "cmp", "meta", "cmp", "immediate"]
    reject6 = writes._expressions(socket.AF_INET6, (None, "br0", "REJECT"))
    assert _names(reject6)[-1] == "reject"
    assert dict(reject6[-1]["attrs"][1][1]["attrs"])[
        "NFTA_REJECT_ICMP_CODE"
    ] == 4


def test_rules_are_tagged_per_bridge():
    assert firewall.rule_userdata("br0", ("br0", None, "ACCEPT")) == (
        "os-vif:br0 br0>* ACCEPT"
    )
    # The tag of br0 is no prefix of br01's.
    assert not firewall.rule_userdata(
        "br01", ("br01", None, "ACCEPT")
    ).startswith(firewall.rule_tag("br0"))


class _NoNftables:
    def get_rules(self):
        import errno

        from pyroute2.netlink.exceptions import NetlinkError

        raise NetlinkError(errno.EOPNOTSUPP, "Operation not supported")


def test_a_kernel_without_nf_tables_has_no_chain_to_get_past():
    assert firewall.existing_rules(_NoNftables(), "os-vif:br0 ") is None
