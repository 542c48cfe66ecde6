"""Which host devices os_vif may change or delete (enforced in the daemon).

A device is os_vif's when

1. it carries os_vif's mark, the interface alias :data:`OS_VIF_ALIAS`
   (every device os_vif creates gets it);
2. it was created by the plan being run (before the mark is set, and while
   a failed plan is undone); or
3. it is what os-vif 5.x made for this VIF before an upgrade: its name is
   the one 5.x derives from the VIF's id (:func:`legacy_names`) *and* it
   is of the kind 5.x makes under that name (``qbr``: bridge, ``qvb`` and
   ``qvo``: veth, ``tap``: tun).

Other devices may only be *used* in the ways a role allows (see
:data:`ROLES`); anything else is refused with
:class:`os_vif.exception.HostOperationRefused`, before the plan changes
anything.  The operator-facing statement of these rules is
``doc/source/operators/ownership.rst``.
"""

from __future__ import annotations

import dataclasses

from os_vif.internal import linkstate, names, operation

__all__ = [
    "Scope",
    "OS_VIF_ALIAS",
    "LEGACY_PREFIXES",
    "ROLES",
    "ROLE_FIELDS",
    "legacy_names",
    "owner_rule",
    "require_owned",
    "require_kind",
    "refuse",
]

OS_VIF_ALIAS = linkstate.OS_VIF_ALIAS

#: Prefixes os-vif 5.x put before a VIF id, and the kind it made.
LEGACY_PREFIXES = names.LEGACY_KINDS

#: How a device os_vif does not own may be used, per role:
#: ``owned`` -- not at all (the default); ``bridge`` -- a bridge a network
#: names: created, set up (MTU, up, IPv6 off) and used, never deleted
#: unless os_vif made it; ``uplink`` -- the interface a configuration names
#: to connect a bridge: brought up and attached to it, released from it;
#: ``representor`` -- the VIF's own SR-IOV representor: MTU, state, master;
#: ``hypervisor`` -- the VIF's device a hypervisor made (vhost-net's tap,
#: which os_vif finds, never creates): MTU, state, master.
ROLES = ("owned", "bridge", "uplink", "representor", "hypervisor")

#: What each role but ``owned`` lets an operation change on a device
#: os_vif does not own (``nomaster``: release it from its master).
ROLE_FIELDS: dict[str, frozenset[str]] = {
    "bridge": frozenset({"mtu", "up"}),
    "uplink": frozenset({"up", "master", "nomaster"}),
    "representor": frozenset({"mtu", "up", "master", "nomaster"}),
    "hypervisor": frozenset({"mtu", "up", "master", "nomaster"}),
}

_RULE = (
    "os_vif changes or deletes only devices it owns: marked with the "
    "alias %r, created by this plan, or the %s os-vif 5.x made for the VIF"
)


#: {name: kind} of the devices os-vif 5.x made for a VIF id.
legacy_names = names.legacy_names


@dataclasses.dataclass
class Scope:
    """What ownership is judged against besides the device itself.

    The caller's early admission judges with an empty scope; the daemon's
    run of a group (:class:`os_vif.internal.privileged.apply.Context`)
    extends it with the devices its plan created as it goes.
    """

    #: Devices the running plan created: name -> kind.
    created: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Running the daemon's own journal: ownership was settled then.
    trusted: bool = False


def owner_rule(
    ctx: Scope, link: linkstate.Link, vif_id: str | None
) -> str | None:
    """Return the rule by which os_vif owns ``link``, or None."""
    if ctx.trusted:
        return "journal"
    if link.name in ctx.created:
        return "created by this plan"
    if link.alias == OS_VIF_ALIAS:
        return "marked"
    legacy_kind = legacy_names(vif_id).get(link.name)
    # Not a 5.x name: None, which a device of no kind (lo, a physical NIC)
    # must not match.
    if legacy_kind is not None and legacy_kind == link.kind:
        return "made by os-vif 5.x"
    return None


#: The refusal naming ``device`` and the ``rule`` it fails.
refuse = operation.refused


def require_owned(
    ctx: Scope, link: linkstate.Link, action: str, vif_id: str | None
) -> None:
    """Raise HostOperationRefused unless os_vif owns ``link``."""
    if owner_rule(ctx, link, vif_id) is None:
        raise refuse(
            action,
            link.name,
            _RULE
            % (
                OS_VIF_ALIAS,
                "qbr/qvb/qvo/tap device" if vif_id else "device",
            ),
        )


def require_kind(link: linkstate.Link, kind: str, action: str) -> None:
    """Raise HostOperationRefused unless ``link`` is of ``kind``."""
    if link.kind != kind:
        raise refuse(
            action,
            link.name,
            "a device of kind %s already has this name, expected %s; it is "
            "left untouched" % (link.kind or "hardware", kind),
        )
