"""The daemon's VLAN devices: EnsureVlan."""

from __future__ import annotations

from os_vif import exception
from os_vif.internal.kernel import vlan
from os_vif.internal.linkstate import Link
from os_vif.internal.privileged import netlink
from os_vif.internal.privileged.apply import Context, applies, require_link
from os_vif.internal.privileged.link import ensure, set_link

__all__ = ["apply_ensure_vlan"]


@applies(vlan.EnsureVlan)
def apply_ensure_vlan(op: vlan.EnsureVlan, ctx: Context) -> bool:
    """Create the VLAN device if missing; set it up."""
    name, vlan_id = op.device, op.get("vlan")

    def settle(
        requests: netlink.LinkRequests, device: Link, alias: str | None
    ) -> bool:
        if device.vlan_id not in (None, vlan_id):
            raise exception.HostOperationFailed(
                operation="create vlan",
                device=name,
                err="exists for VLAN %s, not %s" % (device.vlan_id, vlan_id),
            )
        owned = alias is not None or op.owned(ctx, device)
        return set_link(
            ctx,
            requests,
            device,
            role="owned" if owned else "uplink",
            vif_id=None,
            alias=alias,
            **op.wanted(owned),
        )

    return ensure(
        ctx,
        name,
        "vlan",
        lambda requests: requests.add(
            name,
            "vlan",
            lower=require_link(op.get("link")).index,
            data=(("IFLA_VLAN_ID", vlan_id),),
        ),
        settle,
    )
