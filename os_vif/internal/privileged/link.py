"""The daemon's link changes: set_link (one request), SetLink, DeleteDevice.

Every family brings a device to what its operation wants through
:func:`set_link`, which applies the differences
:func:`os_vif.internal.kernel.link.differences` finds -- the comparison the
caller's check makes too -- in one netlink request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from os_vif.internal import linkstate, ownership
from os_vif.internal.kernel import link as link_family
from os_vif.internal.privileged import netlink
from os_vif.internal.privileged.apply import Context, applies, require_link

__all__ = [
    "set_link",
    "ensure",
    "apply_set_link",
    "apply_delete_device",
]


def set_link(
    ctx: Context,
    requests: netlink.LinkRequests,
    link: linkstate.Link,
    *,
    role: str,
    vif_id: str | None,
    **wanted: Any,
) -> bool:
    """Bring ``link`` to the ``wanted`` attributes in at most one request.

    ``wanted``: the keywords of :func:`.kernel.link.differences`.  The
    undo (the previous values) is recorded first, except for a device this
    plan created: deleting it undoes everything.  It carries ``vif_id``,
    the ownership proof the operation was admitted with: the client runs
    the undo as a plan of its own when a later part of the plug fails, and
    a device os_vif owns only as what os-vif 5.x made for this VIF (no
    alias) is admitted then by that proof alone.
    """
    found = link_family.differences(link, **wanted)
    if not found:
        return False
    changes: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    for diff in found:
        if diff.key == "master":
            changes["master"] = (
                0 if diff.wanted is None else require_link(diff.wanted).index
            )
            if diff.found is None:
                previous["nomaster"] = True
            else:
                previous["master"] = diff.found
        else:
            changes[diff.key] = diff.wanted
            if diff.key != "alias":
                previous[diff.key] = diff.found
    if previous and link.name not in ctx.created:
        ctx.record_undo(
            link_family.SetLink(
                name=link.name, role=role, vif_id=vif_id, **previous
            )
        )
    requests.set(link.index, **changes)
    return True


def ensure(
    ctx: Context,
    name: str,
    kind: str,
    create: Callable[[netlink.LinkRequests], Any],
    settle: Callable[[netlink.LinkRequests, linkstate.Link, str | None], bool],
) -> bool:
    """Find or create device ``name`` of ``kind``; settle it; say if changed.

    ``create(requests)`` makes it; ``settle(requests, link, alias)``
    brings it to what its operation wants (through :func:`set_link`, with
    ``alias``: os_vif's mark for a device this call made, else None -- an
    existing device's alias is its owner's) and says whether it changed
    anything.
    """
    with netlink.links() as requests:
        link = linkstate.read_link(name)
        created = link is None
        if link is not None:
            ownership.require_kind(link, kind, "create a %s" % kind)
        else:
            ctx.creating(name, kind)
            create(requests)
            # The kernel ignores an alias in the creating request: settle
            # marks the device in the request that sets its other
            # attributes (each request is a round trip, and wakes every
            # netlink listener: ovs-vswitchd among them).
            link = require_link(name)
        alias = ownership.OS_VIF_ALIAS if created else None
        return settle(requests, link, alias) or created


@applies(link_family.SetLink)
def apply_set_link(op: link_family.SetLink, ctx: Context) -> bool:
    """Change what differs, in one request."""
    link = linkstate.read_link(op.device)
    if link is None and op.get("optional", False):
        return False
    with netlink.links() as requests:
        return set_link(
            ctx,
            requests,
            link or require_link(op.device),
            role=op.get("role", "owned"),
            vif_id=op.get("vif_id"),
            **op.wanted(),
        )


@applies(link_family.DeleteDevice)
def apply_delete_device(op: link_family.DeleteDevice, ctx: Context) -> bool:
    """Delete the device if it is there (and of the asked kind)."""
    link = linkstate.read_link(op.device)
    if link is None or not op.doomed(link):
        return False
    if ctx.delete_later(link.index):
        return True
    with netlink.links() as requests:
        requests.delete(link.index)
    return True
