"""An iptables-nft style host firewall, made in a throwaway namespace.

Tests and benchmarks of the ``linux_bridge`` plugin need what a host with
an iptables firewall has: the nf_tables table ``filter`` and its
``FORWARD`` chain hooked on forwarding, in each family os_vif puts its
rules in.  Only ever called inside a namespace the caller made.
"""

from __future__ import annotations

import contextlib

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.nftables.main import NFTables

from os_vif.internal.kernel import firewall

__all__ = ["add_forward_chain"]


def add_forward_chain(family: int, *, replace: bool = False) -> NFTables:
    """Make ``filter``/``FORWARD`` in ``family``; return the open socket.

    With ``replace``, a ``filter`` table already there (and every rule in
    it) is deleted first.  The caller closes the socket (or adds its own
    rules through it first).
    """
    nft = NFTables(nfgen_family=family)
    try:
        if replace:
            with contextlib.suppress(NetlinkError):
                nft.table("del", name=firewall.TABLE)
        nft.table("add", name=firewall.TABLE)
        nft.chain(
            "add",
            table=firewall.TABLE,
            name=firewall.CHAIN,
            hook="forward",
            type="filter",
            policy=0,
            priority=0,
        )
    except BaseException:
        nft.close()
        raise
    return nft
