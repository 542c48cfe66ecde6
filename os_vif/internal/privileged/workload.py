"""The daemon's workload ends: Ensure, Delete and RestoreWorkloadEnd.

Only the workload daemon (``vif_plug_workload``, which has
``CAP_SYS_ADMIN`` to enter a namespace) is sent these operations.  The
thread that applies one enters the workload's namespace for the reads
and changes inside (:func:`os_vif.internal.netns.entered`) and leaves it
before anything is done on the host; the creating request is made from
the host's namespace, with the namespace's file descriptor, so that the
end is born inside under its final name, MAC and MTU.

A fresh end is not read back: it has what it was born with and nothing
else, so its mark, addresses and routes go in one send
(:mod:`.addressing`).  An existing end (a re-plug) is read inside and
repaired in one send too, after the undo of those repairs is recorded
(:class:`~os_vif.internal.kernel.workload.RestoreWorkloadEnd`).

:func:`read_ends` reads ends for a caller that may not enter a namespace
(its check): plain data back, the comparison stays the caller's.
"""

from __future__ import annotations

import os
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError

from os_vif import exception
from os_vif.internal import linkstate, netns, ownership
from os_vif.internal.kernel import workload
from os_vif.internal.privileged import addressing, netlink
from os_vif.internal.privileged.apply import Context, applies, require_link
from os_vif.internal.privileged.link import set_link

__all__ = [
    "apply_ensure_workload_end",
    "apply_delete_workload_end",
    "apply_restore_workload_end",
    "read_ends",
]



def _failed(op: Any, action: str, err: Any) -> exception.HostOperationFailed:
    return exception.HostOperationFailed(
        operation=action,
        device="%s in %s" % (op.device, op.get("netns")),
        err=str(err),
    )


def _read(op: Any) -> linkstate.Link | None:
    """The end's link inside (None: absent), to judge it before any
    change."""
    try:
        with netns.entered(op.get("netns")):
            return linkstate.read_link(op.device)
    except netns.Gone:
        raise _failed(op, "enter namespace", "no such namespace") from None


def _create(op: workload.EnsureWorkloadEnd, ctx: Context) -> None:
    """Make the end inside the namespace (and a veth's host end).

    Born as asked where the kernel allows it: in the namespace, under its
    name, with its MAC and MTU (a veth's host end on its master, up).  The
    kernel ignores an alias in a creating request: the end is marked
    inside (:func:`_fresh_inside`), the host end here.
    """
    kind, ifname = op.get("kind"), op.device
    try:
        fd = os.open(
            netns.path_of(op.get("netns")), os.O_RDONLY | os.O_CLOEXEC
        )
    except FileNotFoundError:
        raise _failed(op, "enter namespace", "no such namespace") from None
    # Recorded before the change it takes back (see Context.record_undo).
    ctx.record_undo(
        workload.DeleteWorkloadEnd(
            netns=op.get("netns"),
            name=ifname,
            host=op.get("host"),
            vif_id=op.get("vif_id"),
        )
    )
    batch = addressing.Requests()
    try:
        if kind == "veth":
            host = op.get("host")
            existing = linkstate.read_link(host)
            if existing is not None:
                # A leftover of an interrupted plug (its peer is gone or
                # elsewhere): os_vif's, admitted; made again.
                ownership.require_kind(existing, "veth", "create a veth")
                ownership.require_owned(
                    ctx, existing, "delete", op.get("vif_id")
                )
                with netlink.links() as requests:
                    requests.delete(existing.index)
            master = op.get("master")
            ctx.created[host] = "veth"
            batch.new_veth(
                host,
                ifname,
                netns_fd=fd,
                mtu=op.get("mtu"),
                mac=op.get("mac"),
                master=None if master is None else require_link(master).index,
            )
            # The host end is marked in the same send, by name.
            batch.set_link(name=host, alias=ownership.OS_VIF_ALIAS)
        else:
            batch.new_nested(
                ifname,
                kind,
                lower=require_link(op.get("parent")).index,
                netns_fd=fd,
                mtu=op.get("mtu"),
                mac=op.get("mac"),
                vlan=op.get("vlan"),
            )
        # From the host's namespace: the parent is there, and the end is
        # born in the workload's.
        batch.send()
    except (NetlinkError, addressing.Refused) as err:
        raise _failed(op, "create %s" % kind, err) from None
    finally:
        os.close(fd)


def _mark_lo(batch: addressing.Requests) -> None:
    """Bring ``lo`` up with the end's requests if it is down (thread
    inside): a workload's own addresses answer through it."""
    lo = linkstate.read_link("lo")
    if lo is not None and not lo.up:
        batch.set_link(lo.index, up=True)


def _enable_ipv6(op: workload.EnsureWorkloadEnd) -> None:
    """IPv6 on for the end (thread inside), before its v6 addresses."""
    # The name was validated: the path stays in the device's directory.
    path = "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % op.device
    with open(path, "w") as handle:
        handle.write("0")


def _fresh_inside(op: workload.EnsureWorkloadEnd) -> None:
    """Finish an end just made (thread inside): no read of what it has.

    It has what it was born with (name, MAC, MTU), no address and no
    route of its own: it is marked and brought up, then given every
    address and route, in one send.
    """
    link = linkstate.read_link(op.device)
    if link is None:
        raise _failed(op, "set up", "vanished")
    if op.get("ipv6", False) and linkstate.read_sysctl(
        op.device, "ipv6", "disable_ipv6"
    ):
        _enable_ipv6(op)
    batch = addressing.Requests(link.index)
    batch.set_link(alias=ownership.OS_VIF_ALIAS, up=True)
    _mark_lo(batch)
    for address in op.get("addresses", []):
        batch.add_address(address)
    for destination, gateway in op.get("routes", []):
        batch.replace_route(destination, gateway)
    batch.send()


def _restore(
    op: workload.EnsureWorkloadEnd,
    end: workload.End,
    diffs: list[Any],
) -> workload.RestoreWorkloadEnd | None:
    """The undo of ``diffs``'s repairs to ``end`` (None: nothing to undo)."""
    previous: dict[str, Any] = {}
    for diff in diffs:
        if diff.key in ("mtu", "up"):
            previous[diff.key] = diff.found
        elif diff.key == "mac" and diff.found is not None:
            previous["mac"] = diff.found
        elif diff.key == "alias":
            previous["alias"] = diff.found or ""
        elif diff.key == "ipv6" and end.ipv6_disabled:
            previous["ipv6_disabled"] = True
    added = [d.wanted for d in diffs if d.key == "address"]
    routes = [d.wanted for d in diffs if d.key == "route"]
    # A route of the same destination through the end is replaced by the
    # one asked: it is put back.
    destinations = {destination for destination, _gateway in routes}
    back = sorted(
        [destination, gateway]
        for destination, gateway in end.routes
        if destination in destinations
        and [destination, gateway] not in routes
    )
    if added:
        previous["addresses"] = added
    if routes:
        previous["routes"] = routes
    if back:
        previous["routes_back"] = back
    if not previous:
        return None
    return workload.RestoreWorkloadEnd(
        netns=op.get("netns"),
        name=op.device,
        vif_id=op.get("vif_id"),
        **previous,
    )


def _settle_inside(
    op: workload.EnsureWorkloadEnd,
    end: workload.End,
    ctx: Context,
    parent_index: int | None,
) -> bool:
    """Apply :func:`.kernel.workload.differences` inside (thread inside).

    What it repairs is recorded first (:class:`RestoreWorkloadEnd`): a
    later failure of the plan puts the end back as it was.
    """
    diffs = workload.differences(op, end, parent_index)
    if not diffs:
        return False
    link_changes: dict[str, Any] = {}
    for diff in diffs:
        if diff.key in ("kind", "parent", "vlan"):
            # A sub-interface's kind, parent or VLAN cannot be changed.
            raise _failed(
                op,
                "set up",
                "exists with %s %s, not %s"
                % (diff.key, diff.found, diff.wanted),
            )
        if diff.key in ("alias", "mtu", "mac", "up"):
            link_changes[diff.key] = diff.wanted
    undo = _restore(op, end, diffs)
    if undo is not None:
        ctx.record_undo(undo)
    if any(diff.key == "ipv6" for diff in diffs):
        _enable_ipv6(op)
    batch = addressing.Requests(end.link.index)
    if link_changes:
        batch.set_link(**link_changes)
    _mark_lo(batch)
    for diff in diffs:
        if diff.key == "address":
            batch.add_address(diff.wanted)
    for diff in diffs:
        if diff.key == "route":
            batch.replace_route(*diff.wanted)
    batch.send()
    return True


def _existing_inside(
    op: workload.EnsureWorkloadEnd, ctx: Context
) -> bool:
    """Read the existing end and bring it to what is asked (a re-plug)."""
    parent = op.get("parent")
    parent_index = None if parent is None else require_link(parent).index
    home = (
        None
        if parent is None
        else os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    )
    try:
        with netns.entered(op.get("netns")):
            found = workload.read_end(
                op.device, op.route_versions(), home
            )
            if found is None:
                raise _failed(op, "set up", "vanished")
            return _settle_inside(op, found, ctx, parent_index)
    finally:
        if home is not None:
            os.close(home)


@applies(workload.EnsureWorkloadEnd)
def apply_ensure_workload_end(
    op: workload.EnsureWorkloadEnd, ctx: Context
) -> bool:
    """Make the end if missing; bring both ends to what is asked."""
    link = _read(op)
    created = link is None
    changed = created
    if link is not None:
        # Inside the namespace os_vif owns only what it marked (or made in
        # this plan: an undo runs trusted).
        if not ctx.trusted and not link.made_by_os_vif:
            raise ownership.refuse(
                "change",
                "%s in %s" % (op.device, op.get("netns")),
                "os_vif changes only devices it marked (alias %r) inside a "
                "workload's namespace" % ownership.OS_VIF_ALIAS,
            )
        host = op.get("host")
        if host is not None:
            with netlink.links() as requests:
                changed = set_link(
                    ctx,
                    requests,
                    require_link(host),
                    role="owned",
                    vif_id=op.get("vif_id"),
                    **op.host_wanted(),
                )
    else:
        # The host end is born as asked (see _create).
        _create(op, ctx)
    try:
        if created:
            with netns.entered(op.get("netns")):
                _fresh_inside(op)
        else:
            changed |= _existing_inside(op, ctx)
    except netns.Gone:
        raise _failed(op, "enter namespace", "no such namespace") from None
    except (NetlinkError, OSError, addressing.Refused) as err:
        raise _failed(op, "set up", err) from None
    return changed


@applies(workload.RestoreWorkloadEnd)
def apply_restore_workload_end(
    op: workload.RestoreWorkloadEnd, ctx: Context
) -> bool:
    """Put the end back as it was before a re-plug repaired it."""
    try:
        with netns.entered(op.get("netns")):
            link = linkstate.read_link(op.device)
            if link is None:
                return False
            if not ctx.trusted and not link.made_by_os_vif:
                raise ownership.refuse(
                    "change",
                    "%s in %s" % (op.device, op.get("netns")),
                    "os_vif puts back only devices it marked inside a "
                    "workload's namespace",
                )
            batch = addressing.Requests(link.index)
            for destination, gateway in op.get("routes", []):
                batch.delete_route(destination, gateway)
            for destination, gateway in op.get("routes_back", []):
                batch.replace_route(destination, gateway)
            for address in op.get("addresses", []):
                batch.delete_address(address)
            wanted = op.link_wanted()
            if wanted:
                batch.set_link(**wanted)
            # Each request is tried: what can be put back is.
            refused = batch.send(strict=False)
            if op.get("ipv6_disabled"):
                # The name was validated: the path stays in its directory.
                path = "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % op.device
                with open(path, "w") as handle:
                    handle.write("1")
    except netns.Gone:
        return False  # its devices went with it
    if refused:
        raise _failed(op, "put back", refused[0])
    return True


def _owned_veth(
    ctx: Context, link: linkstate.Link, op: workload.DeleteWorkloadEnd
) -> bool:
    """Whether ``link`` is a veth's host end os_vif may delete."""
    return link.kind == "veth" and (
        ownership.owner_rule(ctx, link, op.get("vif_id")) is not None
    )


@applies(workload.DeleteWorkloadEnd)
def apply_delete_workload_end(
    op: workload.DeleteWorkloadEnd, ctx: Context
) -> bool:
    """Delete the end (and the veth's host end); a gone namespace is done.

    In a call that deletes only (an unplug of many, see
    :meth:`Context.delete_later`), a veth end whose host end is os_vif's
    is not entered: the host end is collected for the call's one
    deletion, which takes its peer inside with it.
    """
    host = op.get("host")
    if host is not None and ctx.deferred is not None:
        link = linkstate.read_link(host)
        if (
            link is not None
            and _owned_veth(ctx, link, op)
            and ctx.delete_later(link.index)
        ):
            return True
    deleted = False
    try:
        with netns.entered(op.get("netns")):
            link = linkstate.read_link(op.device)
            if link is not None and (ctx.trusted or link.made_by_os_vif):
                with netlink.links() as requests:
                    requests.delete(link.index)
                deleted = True
    except netns.Gone:
        pass  # its devices went with it
    if host is not None:
        link = linkstate.read_link(host)
        if link is not None and _owned_veth(ctx, link, op):
            with netlink.links() as requests:
                requests.delete(link.index)
            deleted = True
    return deleted


def _read_one(
    netns_ref: str, name: str, versions: tuple[int, ...], nested: bool
) -> dict[str, Any]:
    """One end read inside its namespace, as plain data."""
    home = (
        os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        if nested
        else None
    )
    try:
        with netns.entered(netns_ref):
            end = workload.read_end(name, versions, home)
    except netns.Gone:
        return {"gone": True}
    except OSError as err:
        return {"error": "%s: %s" % (type(err).__name__, err)}
    finally:
        if home is not None:
            os.close(home)
    return {"end": None if end is None else workload.end_to_wire(end)}


def read_ends(reads: Any) -> list[dict[str, Any]]:
    """Read the workload ends ``reads`` asks for; change nothing.

    ``reads``: a list of :func:`~os_vif.internal.kernel.workload.
    read_wire` requests, each validated again (the namespace reference,
    the interface name, the IP versions) before any is read: a bad one
    refuses the call with InvalidArgument naming ``reads[i]``.  One answer
    per request, in order: ``{"end": <end_to_wire> or None}`` (None: no
    such interface), ``{"gone": True}`` (no such namespace) or
    ``{"error": message}``.
    """
    # privsep carries a list as a tuple.
    if not isinstance(reads, (list, tuple)):
        raise exception.InvalidArgument(
            field="reads", value=reads, reason="must be a list"
        )
    if len(reads) > workload.MAX_READS:
        raise exception.InvalidArgument(
            field="reads",
            value=len(reads),
            reason="at most %d ends a call" % workload.MAX_READS,
        )
    parsed = [
        workload.parse_read(item, "reads[%d]" % index)
        for index, item in enumerate(reads)
    ]
    return [_read_one(*request) for request in parsed]
