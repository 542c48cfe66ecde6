"""The daemon's bridges: EnsureBridge, RemoveBridgeIfUnused."""

from __future__ import annotations

from os_vif.internal.kernel import bridge
from os_vif.internal.linkstate import Link
from os_vif.internal.privileged import netlink
from os_vif.internal.privileged.apply import Context, applies
from os_vif.internal.privileged.link import ensure, set_link
from os_vif.internal.privileged.sysctl import disable_ipv6

__all__ = ["apply_ensure_bridge", "apply_remove_bridge_if_unused"]


@applies(bridge.EnsureBridge)
def apply_ensure_bridge(op: bridge.EnsureBridge, ctx: Context) -> bool:
    """Create or set up the bridge."""
    name, role, vif_id = op.device, op.get("role", "owned"), op.get("vif_id")

    def settle(
        requests: netlink.LinkRequests, link: Link, alias: str | None
    ) -> bool:
        # IPv6 off before the bridge comes up: no link-local address and
        # no router solicitation ever leave it.
        ipv6 = op.get("disable_ipv6", False) and disable_ipv6(
            ctx, name, role, vif_id
        )
        wanted = op.wanted()
        return set_link(
            ctx, requests, link, role=role, vif_id=vif_id, alias=alias,
            **wanted,
        ) or bool(ipv6)

    return ensure(
        ctx,
        name,
        "bridge",
        lambda requests: requests.add(
            name, "bridge", mtu=op.get("mtu"), data=op.creation_data()
        ),
        settle,
    )


@applies(bridge.RemoveBridgeIfUnused)
def apply_remove_bridge_if_unused(
    op: bridge.RemoveBridgeIfUnused, ctx: Context
) -> bool:
    """Delete the bridge (and the uplinks os_vif made) if unused."""
    # Ports this call deletes already (batched, later) are gone.
    doomed = op.doomed(ctx, ctx.is_leaving)
    if doomed is None:
        return False
    if all([ctx.delete_later(index) for index in doomed]):
        return True
    with netlink.links() as requests:
        for index in doomed:
            requests.delete(index)
    return True
