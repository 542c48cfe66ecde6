"""The daemon's nf_tables writes: Allow- and RevokeBridgeForwarding.

What the rules are, why, and how they are read: see
:mod:`os_vif.internal.kernel.firewall`.  Here they are encoded as nf_tables
expressions, inserted first in the ``filter``/``FORWARD`` chain and
deleted again.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.nftables.expressions import genex, verdict
from pyroute2.nftables.main import NFTables

from os_vif.internal import linkstate
from os_vif.internal.kernel import firewall
from os_vif.internal.privileged.apply import Context, applies

__all__ = [
    "close_sockets",
    "apply_allow_bridge_forwarding",
    "apply_revoke_bridge_forwarding",
]

LOG = logging.getLogger(__name__)

_META_IIFNAME = 6
_META_OIFNAME = 7
_NF_DROP = 0
_NF_ACCEPT = 1
_IFNAMSIZ = 16

#: Close the cached nf_tables sockets (shared with the caller's reads).
close_sockets = firewall.close_sockets


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


def _expressions(family: int, rule: firewall.Rule) -> list[Any]:
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


def _delete_rules(nft: NFTables, handles: list[int]) -> None:
    for handle in handles:
        try:
            nft.rule(
                "del",
                table=firewall.TABLE,
                chain=firewall.CHAIN,
                handle=handle,
            )
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


def _insert_rules(
    nft: NFTables,
    family: int,
    rules: list[firewall.Rule],
    userdata: list[str],
) -> bool:
    """Insert ``rules`` first in the chain; False if there is no chain.

    The caller has seen the chain; should it have gone since, the first
    insertion is refused (ENOENT) and nothing is inserted.
    """
    # 'insert' without a position puts a rule first, ahead of the chain's
    # own drops: insert the last one first.
    pairs = list(zip(rules, userdata, strict=True))
    for position, (rule, data) in enumerate(reversed(pairs)):
        try:
            nft.rule(
                "insert",
                table=firewall.TABLE,
                chain=firewall.CHAIN,
                expressions=(_expressions(family, rule),),
                userdata=data,
            )
        except NetlinkError as err:
            if position == 0 and err.code == errno.ENOENT:
                # No filter/FORWARD chain: no iptables firewall here.
                return False
            raise
    return True


@applies(firewall.AllowBridgeForwarding)
def apply_allow_bridge_forwarding(
    op: firewall.AllowBridgeForwarding, ctx: Context
) -> bool:
    """Insert the rules in every family that has the chain."""
    tag = firewall.rule_tag(op.device)
    rules, userdata = op.rules()
    changed = False
    _warn_about_legacy_iptables()
    for family in firewall.FAMILIES:
        with firewall.nft(family) as nft:
            existing = firewall.existing_rules(nft, tag)
            if existing is None or firewall.same_rules(
                list(existing.values()), userdata
            ):
                continue
            # Tagged rules live in the chain, so only without them is the
            # chain looked up.  Asked every time, never remembered: an
            # operator may add the chain later.  Not left to a refused
            # insertion: the kernel's abort of the batch waits for an RCU
            # grace period (about 10 ms per family, on every plug).
            if not existing and not firewall.has_chain(nft):
                continue
            if not changed:
                ctx.record_undo(
                    firewall.RevokeBridgeForwarding(name=op.device)
                )
            _delete_rules(nft, list(existing))
            if not _insert_rules(nft, family, rules, userdata):
                continue
        changed = True
    return changed


@applies(firewall.RevokeBridgeForwarding)
def apply_revoke_bridge_forwarding(
    op: firewall.RevokeBridgeForwarding, ctx: Context
) -> bool:
    """Delete the bridge's tagged rules."""
    if op.get("if_absent", False):
        link = linkstate.read_link(op.device)
        # A bridge this call deletes (batched, later) counts as gone.
        if link is not None and not ctx.is_leaving(link.index):
            return False
    tag = firewall.rule_tag(op.device)
    changed = False
    for family in firewall.FAMILIES:
        with firewall.nft(family) as nft:
            existing = firewall.existing_rules(nft, tag)
            if existing:
                _delete_rules(nft, list(existing))
                changed = True
    return changed
