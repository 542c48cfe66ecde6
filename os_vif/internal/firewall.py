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

Operations: ``allow_bridge_forwarding``, ``revoke_bridge_forwarding``.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.nftables.expressions import genex, verdict
from pyroute2.nftables.main import NFTables

from os_vif.internal import validation
from os_vif.internal.operations import Transaction, operation

__all__ = ["TABLE", "CHAIN", "FAMILIES", "rule_tag", "bridge_rules"]

LOG = logging.getLogger(__name__)

#: The table and chain iptables-nft keeps ``iptables -t filter FORWARD`` in.
TABLE = "filter"
CHAIN = "FORWARD"
#: The nf_tables families the rules are made in.
FAMILIES = (socket.AF_INET, socket.AF_INET6)

_META_IIFNAME = 6
_META_OIFNAME = 7
_NF_ACCEPT = 1
_IFNAMSIZ = 16


def rule_tag(bridge: str) -> str:
    """Return the user data that marks os_vif's rules for ``bridge``."""
    return "os-vif:" + bridge


_SOCKETS: dict[tuple[int, int], NFTables] = {}
_SOCKET_LOCK = threading.RLock()


@contextlib.contextmanager
def _nft(family: int) -> Iterator[NFTables]:
    with _SOCKET_LOCK:
        key = (os.stat("/proc/thread-self/ns/net").st_ino, family)
        nft = _SOCKETS.get(key)
        if nft is None:
            nft = _SOCKETS[key] = NFTables(nfgen_family=family)
        yield nft


def close_sockets() -> None:
    """Close the cached nf_tables sockets."""
    with _SOCKET_LOCK:
        while _SOCKETS:
            _key, nft = _SOCKETS.popitem()
            with contextlib.suppress(Exception):
                nft.close()


def _has_forward_chain(nft: NFTables) -> bool:
    return any(
        chain.get("NFTA_CHAIN_TABLE") == TABLE
        and chain.get("NFTA_CHAIN_NAME") == CHAIN
        for chain in nft.get_chains()
    )


def _tagged_rules(nft: NFTables, tag: str) -> list[int]:
    return [
        rule.get("NFTA_RULE_HANDLE")
        for rule in nft.get_rules()
        if rule.get("NFTA_RULE_TABLE") == TABLE
        and rule.get("NFTA_RULE_CHAIN") == CHAIN
        and rule.get("NFTA_RULE_USERDATA") == tag
    ]


def bridge_rules(bridge: str) -> dict[int, int]:
    """Return, per family, how many os_vif rules exist for ``bridge``."""
    validation.interface_name(bridge)
    counts: dict[int, int] = {}
    for family in FAMILIES:
        with _nft(family) as nft:
            counts[family] = len(_tagged_rules(nft, rule_tag(bridge)))
    return counts


def _accept_on(meta_key: int, bridge: str) -> list[Any]:
    name = bridge.encode().ljust(_IFNAMSIZ, b"\0")
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
    ] + verdict(_NF_ACCEPT)


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


@operation("allow_bridge_forwarding", {"name": validation.interface_name})
def allow_bridge_forwarding(tx: Transaction, name: str) -> bool:
    """Accept forwarded traffic in and out of bridge ``name``."""
    tag = rule_tag(name)
    changed = False
    _warn_about_legacy_iptables()
    for family in FAMILIES:
        with _nft(family) as nft:
            if not _has_forward_chain(nft):
                continue
            existing = _tagged_rules(nft, tag)
            if len(existing) == 2:
                continue
            _delete_rules(nft, existing)
            for meta_key in (_META_OIFNAME, _META_IIFNAME):
                # 'insert' without a position puts the rule first, ahead
                # of the chain's own drops.
                nft.rule(
                    "insert",
                    table=TABLE,
                    chain=CHAIN,
                    expressions=(_accept_on(meta_key, name),),
                    userdata=tag,
                )
        tx.on_undo(
            "allow forwarding on %s" % name,
            functools.partial(_revoke, family, tag),
        )
        changed = True
    return changed


def _revoke(family: int, tag: str) -> bool:
    with _nft(family) as nft:
        handles = _tagged_rules(nft, tag)
        _delete_rules(nft, handles)
    return bool(handles)


@operation("revoke_bridge_forwarding", {"name": validation.interface_name})
def revoke_bridge_forwarding(tx: Transaction, name: str) -> bool:
    """Remove the rules :func:`allow_bridge_forwarding` made for ``name``."""
    changed = False
    for family in FAMILIES:
        changed |= _revoke(family, rule_tag(name))
    return changed
