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

Operations: :class:`AllowBridgeForwarding`, :class:`RevokeBridgeForwarding`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.nftables.expressions import genex, verdict
from pyroute2.nftables.main import NFTables

from os_vif.internal import linkstate, socket_cache, validation
from os_vif.internal.operation import Problem
from os_vif.internal.privileged.executor import (
    REGISTRY,
    Context,
    KernelOperation,
)

__all__ = [
    "TABLE",
    "CHAIN",
    "FAMILIES",
    "rule_tag",
    "bridge_rules",
    "forwarding_rules",
    "AllowBridgeForwarding",
    "RevokeBridgeForwarding",
]

LOG = logging.getLogger(__name__)

#: The table and chain iptables-nft keeps ``iptables -t filter FORWARD`` in.
TABLE = "filter"
CHAIN = "FORWARD"
#: The nf_tables families the rules are made in.
FAMILIES = (socket.AF_INET, socket.AF_INET6)

_META_IIFNAME = 6
_META_OIFNAME = 7
_NF_DROP = 0
_NF_ACCEPT = 1
_IFNAMSIZ = 16


#: (input interface, output interface, action); None matches any.
_Rule = tuple[str | None, str | None, str]


def rule_tag(bridge: str) -> str:
    """Return the user data prefix of os_vif's rules for ``bridge``."""
    return "os-vif:%s " % bridge


def _rule_userdata(bridge: str, rule: _Rule) -> str:
    # The rule's meaning is in its user data, so that an unchanged rule
    # set is recognised without decoding expressions.
    iif, oif, action = rule
    return "%s%s>%s %s" % (rule_tag(bridge), iif or "*", oif or "*", action)


# One nf_tables socket per namespace and family (see socket_cache).
_SOCKETS: socket_cache.SocketCache[NFTables] = socket_cache.SocketCache(
    threading.RLock(), lambda nft: nft.close()
)


def _nft(family: int) -> contextlib.AbstractContextManager[NFTables]:
    return _SOCKETS.held(lambda: NFTables(nfgen_family=family), family)


def close_sockets() -> None:
    """Close the cached nf_tables sockets."""
    _SOCKETS.close()


# What nf_tables answers when the kernel or the family lacks it.
_NO_NFTABLES = (errno.EPROTONOSUPPORT, errno.EOPNOTSUPP, errno.EAFNOSUPPORT)


def _no_nftables(err: Exception) -> bool:
    code = getattr(err, "code", None) or getattr(err, "errno", None)
    return code in _NO_NFTABLES


def _tagged_rules(nft: NFTables, tag: str) -> dict[int, str]:
    """Return {handle: user data} of the rules whose user data has tag."""
    found = {}
    for rule in nft.get_rules():
        userdata = rule.get("NFTA_RULE_USERDATA")
        if (
            rule.get("NFTA_RULE_TABLE") == TABLE
            and rule.get("NFTA_RULE_CHAIN") == CHAIN
            and isinstance(userdata, str)
            and userdata.startswith(tag)
        ):
            found[rule.get("NFTA_RULE_HANDLE")] = userdata
    return found


def _existing_rules(nft: NFTables, tag: str) -> dict[int, str] | None:
    """Like :func:`_tagged_rules`; None if this kernel has no nf_tables."""
    try:
        return _tagged_rules(nft, tag)
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
        with _nft(family) as nft:
            counts[family] = len(_tagged_rules(nft, rule_tag(bridge)))
    return counts


def _match(meta_key: int, device: str) -> list[Any]:
    name = device.encode().ljust(_IFNAMSIZ, b"\0")
    return [
        genex("meta", {"dreg": 1, "key": meta_key}),
        genex(
            "cmp",
            {
                "sreg": 1,
                "op": 0,
                "data": {"attrs": [("NFTA_DATA_VALUE", name)]},
            },
        ),
    ]


def _expressions(family: int, rule: _Rule) -> list[Any]:
    iif, oif, action = rule
    expressions: list[Any] = []
    if iif is not None:
        expressions += _match(_META_IIFNAME, iif)
    if oif is not None:
        expressions += _match(_META_OIFNAME, oif)
    if action == "ACCEPT":
        expressions += verdict(_NF_ACCEPT)
    elif action == "DROP":
        expressions += verdict(_NF_DROP)
    else:
        # As iptables' REJECT: an ICMP port unreachable, whatever the
        # protocol.
        code = 3 if family == socket.AF_INET else 4
        expressions.append(genex("reject", {"type": 0, "icmp_code": code}))
    return expressions


def forwarding_rules(
    bridge: str, peers: list[str], drop_action: str
) -> list[_Rule]:
    """Return the rules, in chain order, that let ``bridge`` forward.

    With no ``peers`` every packet in or out of the bridge is accepted.
    Otherwise only traffic between the bridge and each peer, or within the
    bridge, is accepted, and the rest in or out of it gets ``drop_action``:
    the rules os-vif's plugin made from ``forward_bridge_interface``.
    """
    if not peers:
        return [(bridge, None, "ACCEPT"), (None, bridge, "ACCEPT")]
    rules: list[_Rule] = []
    for peer in peers:
        rules += [(bridge, peer, "ACCEPT"), (peer, bridge, "ACCEPT")]
    rules += [
        (bridge, bridge, "ACCEPT"),
        (bridge, None, drop_action),
        (None, bridge, drop_action),
    ]
    return rules


def _delete_rules(nft: NFTables, handles: list[int]) -> None:
    for handle in handles:
        try:
            nft.rule("del", table=TABLE, chain=CHAIN, handle=handle)
        except NetlinkError as err:
            if err.code != errno.ENOENT:
                raise


def _warn_about_legacy_iptables() -> None:
    try:
        with open("/proc/net/ip_tables_names") as handle:
            tables = handle.read().split()
    except OSError:
        return
    if "filter" in tables:
        LOG.warning(
            "Legacy iptables filter rules exist; os_vif only manages "
            "nf_tables (iptables-nft) rules and left them unchanged"
        )


def _drop_action(value: Any, field: str) -> str:
    return str(validation.one_of(value, ("DROP", "REJECT"), field))


def _readable_rules(tag: str) -> list[str] | None:
    """Return the user data of the os_vif rules with ``tag``, all families.

    None when nf_tables cannot be read here (no privilege).
    """
    view = _rules_and_chains(tag)
    return None if view is None else view[0]


def _rules_and_chains(tag: str) -> tuple[list[str], int] | None:
    """The rules with ``tag`` and how many families have the chain.

    None when nf_tables cannot be read here (no privilege).
    """
    found: list[str] = []
    chains = 0
    for family in FAMILIES:
        try:
            with _nft(family) as nft:
                existing = _existing_rules(nft, tag)
                if existing is not None and (existing or _has_chain(nft)):
                    chains += 1
                    found += existing.values()
        except (NetlinkError, OSError):
            return None
    return sorted(found), chains


def _has_chain(nft: NFTables) -> bool:
    """Whether this family has the filter/FORWARD chain rules go in."""
    return any(
        chain.get("NFTA_CHAIN_TABLE") == TABLE
        and chain.get("NFTA_CHAIN_NAME") == CHAIN
        for chain in nft.get_chains()
    )


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

    def _rules(self) -> tuple[list[_Rule], list[str]]:
        name = self.device
        rules = forwarding_rules(
            name, list(self.get("peers", ())), self.get("drop_action", "DROP")
        )
        return rules, [_rule_userdata(name, rule) for rule in rules]

    def apply(self, ctx: Context) -> bool:
        """Insert the rules in every family that has the chain."""
        name = self.device
        tag = rule_tag(name)
        rules, userdata = self._rules()
        changed = False
        _warn_about_legacy_iptables()
        for family in FAMILIES:
            with _nft(family) as nft:
                existing = _existing_rules(nft, tag)
                if existing is None or sorted(existing.values()) == sorted(
                    userdata
                ):
                    continue
                if not changed:
                    ctx.record_undo(RevokeBridgeForwarding(name=name))
                _delete_rules(nft, list(existing))
                if not _insert_rules(nft, family, rules, userdata):
                    continue
            changed = True
        return changed

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the bridge's rules with what is asked."""
        view = _rules_and_chains(rule_tag(self.device))
        wanted = sorted(self._rules()[1])
        if view is None:
            return [
                Problem("firewall %s" % self.device, "rules", wanted, None)
            ]
        found, chains = view
        if not chains:
            # No filter/FORWARD chain in any family: no iptables firewall
            # here, and apply inserts nothing either.
            return []
        # Each family with a FORWARD chain holds one copy of the rules.
        if (
            found
            and set(found) == set(wanted)
            and len(found) % len(wanted) == 0
        ):
            return []
        return [Problem("firewall %s" % self.device, "rules", wanted, found)]


def _insert_rules(
    nft: NFTables, family: int, rules: list[_Rule], userdata: list[str]
) -> bool:
    """Insert ``rules`` first in the chain; False if there is no chain.

    The chain is not looked up first: the first insertion says whether it
    exists (ENOENT), which saves a dump per family on every plug.
    """
    # 'insert' without a position puts a rule first, ahead of the chain's
    # own drops: insert the last one first.
    pairs = list(zip(rules, userdata, strict=True))
    for position, (rule, data) in enumerate(reversed(pairs)):
        try:
            nft.rule(
                "insert",
                table=TABLE,
                chain=CHAIN,
                expressions=(_expressions(family, rule),),
                userdata=data,
            )
        except NetlinkError as err:
            if position == 0 and err.code == errno.ENOENT:
                # No filter/FORWARD chain: no iptables firewall here.
                return False
            raise
    return True


def _revoke(family: int, tag: str) -> bool:
    with _nft(family) as nft:
        existing = _existing_rules(nft, tag)
        if not existing:
            return False
        _delete_rules(nft, list(existing))
    return True


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

    def apply(self, ctx: Context) -> bool:
        """Delete the bridge's tagged rules."""
        if self.get("if_absent", False):
            link = linkstate.read_link(self.device)
            # A bridge this call deletes (batched, later) counts as gone.
            if link is not None and not ctx.is_leaving(link.index):
                return False
        changed = False
        for family in FAMILIES:
            changed |= _revoke(family, rule_tag(self.device))
        return changed

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """No rule should be left (when the bridge is gone, with if_absent)."""
        if self.get("if_absent", False) and linkstate.read_link(self.device):
            return []
        found = _readable_rules(rule_tag(self.device))
        if found == []:
            return []
        return [Problem("firewall %s" % self.device, "rules", [], found)]
