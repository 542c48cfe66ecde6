"""The daemon's per-device sysctl writes: SetSysctl."""

from __future__ import annotations

from os_vif.internal import linkstate
from os_vif.internal.kernel import sysctl
from os_vif.internal.privileged.apply import Context, applies, require_link

__all__ = ["write_sysctl", "apply_set_sysctl"]


def write_sysctl(
    ctx: Context,
    op: sysctl.SetSysctl,
) -> bool:
    """Write the sysctl if :func:`.kernel.sysctl.differs`; undo first.

    The undo carries the VIF id of the operation (see
    :func:`.link.set_link`).
    """
    name, family, key = op.device, op.get("family"), op.get("key")
    value = op.get("value")
    old = linkstate.read_sysctl(name, family, key)
    if not sysctl.differs(family, value, old):
        return False
    # The name was validated: no '/', not '.' or '..', so the path cannot
    # leave the device's own directory.
    path = "/proc/sys/net/%s/conf/%s/%s" % (family, name, key)
    if old is None:
        raise FileNotFoundError(path)
    if name not in ctx.created:
        ctx.record_undo(
            sysctl.SetSysctl(
                name=name,
                family=family,
                key=key,
                value=old,
                role=op.get("role", "owned"),
                vif_id=op.get("vif_id"),
            )
        )
    with open(path, "w") as handle:
        handle.write(str(value))
    return True


def disable_ipv6(
    ctx: Context, name: str, role: str, vif_id: str | None
) -> bool:
    """Turn IPv6 off on ``name`` (before it comes up: see the callers)."""
    return write_sysctl(
        ctx, sysctl.disable_ipv6(name, role=role, vif_id=vif_id)
    )


@applies(sysctl.SetSysctl)
def apply_set_sysctl(op: sysctl.SetSysctl, ctx: Context) -> bool:
    """Write the sysctl if it differs."""
    require_link(op.device)
    return write_sysctl(ctx, op)
