"""The daemon's veth pairs: EnsureVeth."""

from __future__ import annotations

from os_vif.internal import linkstate, ownership
from os_vif.internal.kernel import veth
from os_vif.internal.privileged import netlink
from os_vif.internal.privileged.apply import Context, applies, require_link
from os_vif.internal.privileged.link import set_link

__all__ = ["apply_ensure_veth"]

_IFF_PROMISC = 0x0100


def _set_promiscuous(index: int) -> None:
    """Turn the promiscuous flag of link ``index`` on (one request)."""
    with netlink.netlink() as ipr:
        ipr.link("set", index=index, flags=_IFF_PROMISC, change=_IFF_PROMISC)


@applies(veth.EnsureVeth)
def apply_ensure_veth(op: veth.EnsureVeth, ctx: Context) -> bool:
    """Create the pair if either end is missing; set both ends."""
    name, peer, master = op.device, op.get("peer"), op.get("master")
    mtu, up, vif_id = op.get("mtu"), op.get("up", True), op.get("vif_id")
    with netlink.links() as requests:
        link, peer_link = linkstate.read_link(name), linkstate.read_link(peer)
        created = link is None or peer_link is None
        for end in (link, peer_link):
            if end is None:
                continue
            ownership.require_kind(end, "veth", "create a veth")
            if created:
                # A leftover of an interrupted plug: made again.
                ownership.require_owned(ctx, end, "delete", vif_id)
                requests.delete(end.index)
        if created:
            # MTU, state and master of this end in the creating request:
            # each request is a round trip and wakes every netlink
            # listener (ovs-vswitchd among them).
            master_index = (
                None if master is None else require_link(master).index
            )
            ctx.creating(name, "veth")
            ctx.created[peer] = "veth"
            requests.add(
                name,
                "veth",
                mtu=mtu,
                up=bool(up),
                master=master_index,
                peer=(("IFLA_IFNAME", peer),)
                + (() if mtu is None else (("IFLA_MTU", mtu),)),
            )
            link, peer_link = require_link(name), require_link(peer)
            if op.get("promisc", False):
                for index in (link.index, peer_link.index):
                    _set_promiscuous(index)
        assert link is not None and peer_link is not None
        changed = False
        for end in (link, peer_link):
            changed |= set_link(
                ctx,
                requests,
                end,
                role="owned",
                vif_id=vif_id,
                alias=ownership.OS_VIF_ALIAS if created else None,
                **op.wanted(end.name),
            )
        return created or changed
