"""Keep the host firewall from dropping traffic across a guest bridge.

With ``br_netfilter`` (``net.bridge.bridge-nf-call-iptables = 1``, the
default once the module is loaded), frames crossing a Linux bridge go
through the IPv4/IPv6 ``FORWARD`` hook, so a host firewall whose ``FORWARD``
chain drops by default also drops guest traffic.  os-vif's linux_bridge
plugin therefore added ``-A FORWARD -i <bridge> -j ACCEPT`` and
``-A FORWARD -o <bridge> -j ACCEPT`` when the VIF had no traffic filtering
of its own.

Here the same two rules are inserted at the top of the ``FORWARD`` chain of
the ``filter`` table, over nf_tables netlink (pyroute2), for IPv4 and IPv6:
that is where iptables-nft (the default ``iptables`` of current
distributions) keeps its rules, and these rules are exactly what
``iptables-nft -I FORWARD -i <bridge> -j ACCEPT`` makes (``iptables-nft -S``
lists them so).  Each rule carries the user data ``os-vif:<bridge>``, by
which it is found again and removed.

If a family has no ``filter``/``FORWARD`` chain there is no iptables
firewall to get past and nothing is done.  A native nftables ruleset (its
own tables, e.g. firewalld's) and legacy x_tables rules are not changed: an
accept in another table cannot overrule their drops, and legacy iptables
has no netlink interface; a warning says so when legacy rules exist.

This module holds what both sides need: the operations
(:class:`AllowBridgeForwarding`, :class:`RevokeBridgeForwarding`), the
rules they want, and the reading of what is there (:func:`family_rules`).
The writes are the daemon's (:mod:`os_vif.internal.privileged.firewall`).
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.nftables.main import NFTables

from os_vif.internal import linkstate, socket_cache, validation
from os_vif.internal.kernel.base import REGISTRY, KernelOperation
from os_vif.internal.operation import Problem

__all__ = [
    "TABLE",
    "CHAIN",
    "FAMILIES",
    "Rule",
    "rule_tag",
    "rule_userdata",
    "bridge_rules",
    "forwarding_rules",
    "existing_rules",
    "same_rules",
    "has_chain",
    "family_rules",
    "nft",
    "close_sockets",
    "AllowBridgeForwarding",
    "RevokeBridgeForwarding",
]

#: The table and chain iptables-nft keeps ``iptables -t filter FORWARD`` in.
TABLE = "filter"
CHAIN = "FORWARD"
#: The nf_tables families the rules are made in.
FAMILIES = (socket.AF_INET, socket.AF_INET6)

#: (input interface, output interface, action); None matches any.
Rule = tuple[str | None, str | None, str]


def rule_tag(bridge: str) -> str:
    """Return the user data prefix of os_vif's rules for ``bridge``."""
    return "os-vif:%s " % bridge


def rule_userdata(bridge: str, rule: Rule) -> str:
    """Return the user data of ``rule``: its meaning, after the tag."""
    # The rule's meaning is in its user data, so that an unchanged rule
    # set is recognised without decoding expressions.
    iif, oif, action = rule
    return "%s%s>%s %s" % (rule_tag(bridge), iif or "*", oif or "*", action)


# One nf_tables socket per namespace and family (see socket_cache).
_SOCKETS: socket_cache.SocketCache[NFTables] = socket_cache.SocketCache(
    threading.RLock(), lambda nft: nft.close()
)


def nft(family: int) -> contextlib.AbstractContextManager[NFTables]:
    """Hold this process's nf_tables socket of ``family`` (namespace's)."""
    return _SOCKETS.held(lambda: NFTables(nfgen_family=family), family)


def close_sockets() -> None:
    """Close the cached nf_tables sockets."""
    _SOCKETS.close()


# What nf_tables answers when the kernel or the family lacks it.
_NO_NFTABLES = (errno.EPROTONOSUPPORT, errno.EOPNOTSUPP, errno.EAFNOSUPPORT)


def _no_nftables(err: Exception) -> bool:
    code = getattr(err, "code", None) or getattr(err, "errno", None)
    return code in _NO_NFTABLES


def _tagged_rules(sock: NFTables, tag: str) -> dict[int, str]:
    """Return {handle: user data} of the rules whose user data has tag."""
    found = {}
    for rule in sock.get_rules():
        userdata = rule.get("NFTA_RULE_USERDATA")
        if (
            rule.get("NFTA_RULE_TABLE") == TABLE
            and rule.get("NFTA_RULE_CHAIN") == CHAIN
            and isinstance(userdata, str)
            and userdata.startswith(tag)
        ):
            found[rule.get("NFTA_RULE_HANDLE")] = userdata
    return found


def existing_rules(sock: NFTables, tag: str) -> dict[int, str] | None:
    """{handle: user data} of the rules with ``tag``; None: no nf_tables."""
    try:
        return _tagged_rules(sock, tag)
    except (NetlinkError, OSError) as err:
        if _no_nftables(err):
            # No nf_tables here: no iptables-nft firewall to get past.
            return None
        raise


def bridge_rules(bridge: str) -> dict[int, int]:
    """Return, per family, how many os_vif rules exist for ``bridge``."""
    validation.interface_name(bridge)
    counts: dict[int, int] = {}
    for family in FAMILIES:
        with nft(family) as sock:
            counts[family] = len(_tagged_rules(sock, rule_tag(bridge)))
    return counts


def forwarding_rules(
    bridge: str, peers: list[str], drop_action: str
) -> list[Rule]:
    """Return the rules, in chain order, that let ``bridge`` forward.

    With no ``peers`` every packet in or out of the bridge is accepted.
    Otherwise only traffic between the bridge and each peer, or within the
    bridge, is accepted, and the rest in or out of it gets ``drop_action``:
    the rules os-vif's plugin made from ``forward_bridge_interface``.
    """
    if not peers:
        return [(bridge, None, "ACCEPT"), (None, bridge, "ACCEPT")]
    rules: list[Rule] = []
    for peer in peers:
        rules += [(bridge, peer, "ACCEPT"), (peer, bridge, "ACCEPT")]
    rules += [
        (bridge, bridge, "ACCEPT"),
        (bridge, None, drop_action),
        (None, bridge, drop_action),
    ]
    return rules


def same_rules(found: list[str], wanted: list[str]) -> bool:
    """Whether one family's rules (user data) are the wanted ones."""
    return sorted(found) == sorted(wanted)


def has_chain(sock: NFTables) -> bool:
    """Whether this family has the filter/FORWARD chain rules go in.

    A dump of the chains: a fraction of a millisecond, where a refused
    insertion costs the kernel's abort of a whole nf_tables batch (an RCU
    grace period, several milliseconds).
    """
    return any(
        chain.get("NFTA_CHAIN_TABLE") == TABLE
        and chain.get("NFTA_CHAIN_NAME") == CHAIN
        for chain in sock.get_chains()
    )


def family_rules(tag: str) -> list[list[str]] | None:
    """The rules with ``tag`` of each family that has the chain.

    A family without the chain and without such rules has no iptables
    firewall to get past, and is left out.  None when nf_tables cannot be
    read here (no privilege).
    """
    found: list[list[str]] = []
    for family in FAMILIES:
        try:
            with nft(family) as sock:
                existing = existing_rules(sock, tag)
                if existing is not None and (existing or has_chain(sock)):
                    found.append(list(existing.values()))
        except (NetlinkError, OSError):
            return None
    return found


def _drop_action(value: Any, field: str) -> str:
    return str(validation.one_of(value, ("DROP", "REJECT"), field))


@REGISTRY.register
class AllowBridgeForwarding(KernelOperation):
    """Let forwarded traffic in and out of bridge ``name`` pass.

    ``peers`` and ``drop_action``: see :func:`forwarding_rules`.  Rules
    already there for the bridge are replaced if they differ.  The rules
    are os_vif's own (tagged), so no device ownership applies.
    """

    NAME = "allow_bridge_forwarding"
    PARAMS = {
        "name": validation.interface_name,
        "peers": validation.interface_names,
        "drop_action": _drop_action,
    }

    def rules(self) -> tuple[list[Rule], list[str]]:
        """The wanted rules, in chain order, and their user data."""
        name = self.device
        rules = forwarding_rules(
            name, list(self.get("peers", ())), self.get("drop_action", "DROP")
        )
        return rules, [rule_userdata(name, rule) for rule in rules]

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare each family's rules for the bridge with what is asked."""
        found = family_rules(rule_tag(self.device))
        wanted = sorted(self.rules()[1])
        what = "firewall %s" % self.device
        if found is None:
            return [Problem(what, "rules", wanted, None)]
        for rules in found:
            if not same_rules(rules, wanted):
                return [Problem(what, "rules", wanted, sorted(rules))]
        return []


@REGISTRY.register
class RevokeBridgeForwarding(KernelOperation):
    """Remove what :class:`AllowBridgeForwarding` added for ``name``.

    With ``if_absent``, only once the bridge no longer exists (so that an
    unplug plan can end with this step whether or not it removed the
    bridge).
    """

    NAME = "revoke_bridge_forwarding"
    PARAMS = {
        "name": validation.interface_name,
        "if_absent": validation.boolean,
    }

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """No rule should be left (when the bridge is gone, with if_absent)."""
        if self.get("if_absent", False) and linkstate.read_link(self.device):
            return []
        found = family_rules(rule_tag(self.device))
        left = None if found is None else sorted(sum(found, []))
        if left == []:
            return []
        return [Problem("firewall %s" % self.device, "rules", [], left)]
