"""The daemon's SR-IOV VF settings: SetVf."""

from __future__ import annotations

from os_vif.internal.kernel import vf as vf_family
from os_vif.internal.privileged import netlink
from os_vif.internal.privileged.apply import Context, applies, require_link

__all__ = ["apply_set_vf"]


@applies(vf_family.SetVf)
def apply_set_vf(op: vf_family.SetVf, ctx: Context) -> bool:
    """Send the settings that differ (all, if the PF reports none)."""
    spec = op.spec()
    if len(spec) == 1:
        return False
    vf = op.get("vf")
    with netlink.netlink() as ipr:
        index = require_link(op.device).index
        current = vf_family.vf_settings(ipr, index, vf)
        if current is not None:
            changes = vf_family.differences(spec, current)
            if not changes:
                return False
            previous = vf_family.as_arguments(
                {key: current[key] for key in changes if key in current}
            )
            if previous:
                ctx.record_undo(
                    vf_family.SetVf(name=op.device, vf=vf, **previous)
                )
            spec = {"vf": vf, **changes}
        ipr.link("set", index=index, vf=dict(spec))
    return True
