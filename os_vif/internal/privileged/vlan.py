"""The daemon's VLAN devices: EnsureVlan."""

from __future__ import annotations

from os_vif import exception
from os_vif.internal.kernel import vlan
from os_vif.internal.privileged import netlink
from os_vif.internal.privileged.apply import Context, applies, require_link
from os_vif.internal.privileged.link import find_or_create, mark, set_link

__all__ = ["apply_ensure_vlan"]


@applies(vlan.EnsureVlan)
def apply_ensure_vlan(op: vlan.EnsureVlan, ctx: Context) -> bool:
    """Create the VLAN device if missing; set it up."""
    name, vlan_id = op.device, op.get("vlan")
    with netlink.links() as requests:
        device, created = find_or_create(
            ctx,
            name,
            "vlan",
            lambda: requests.add(
                name,
                "vlan",
                lower=require_link(op.get("link")).index,
                data=(("IFLA_VLAN_ID", vlan_id),),
            ),
        )
        if not created and device.vlan_id not in (None, vlan_id):
            raise exception.HostOperationFailed(
                operation="create vlan",
                device=name,
                err="exists for VLAN %s, not %s" % (device.vlan_id, vlan_id),
            )
        owned = created or op.owned(ctx, device)
        changed = set_link(
            ctx,
            requests,
            device,
            role="owned" if owned else "uplink",
            vif_id=None,
            alias=mark(created),
            **op.wanted(owned),
        )
        return created or changed
