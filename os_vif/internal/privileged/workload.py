"""The daemon's workload ends: EnsureWorkloadEnd, DeleteWorkloadEnd.

Only the workload daemon (``vif_plug_workload``, which has
``CAP_SYS_ADMIN`` to enter a namespace) is sent these operations.  The
thread that applies one enters the workload's namespace for the reads
and changes inside (:func:`os_vif.internal.netns.entered`) and leaves it
before anything is done on the host; the creating request is made from
the host's namespace, with the namespace's file descriptor, so that the
end is born inside under its final name.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError

from os_vif import exception
from os_vif.internal import linkstate, netns, ownership
from os_vif.internal.kernel import workload
from os_vif.internal.privileged import netlink
from os_vif.internal.privileged.apply import Context, applies, require_link
from os_vif.internal.privileged.link import set_link

__all__ = ["apply_ensure_workload_end", "apply_delete_workload_end"]

# ifaddrmsg flag: no duplicate address detection.  The address is the
# VIF's, which Neutron gave this port alone; a tentative address would
# make the routes through its subnet's gateway fail for a second or so.
_IFA_F_NODAD = 0x02
_MACVLAN_MODE_BRIDGE = 4


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
    """Make the end inside the namespace (and a veth's host end)."""
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
    try:
        with netlink.netlink() as ipr:
            inside: dict[str, Any] = {"net_ns_fd": fd}
            if op.get("mac") is not None:
                inside["address"] = op.get("mac")
            if op.get("mtu") is not None:
                inside["mtu"] = op.get("mtu")
            if kind == "veth":
                host = op.get("host")
                existing = linkstate.read_link(host)
                if existing is not None:
                    # A leftover of an interrupted plug (its peer is gone
                    # or elsewhere): os_vif's, admitted; made again.
                    ownership.require_kind(existing, "veth", "create a veth")
                    ownership.require_owned(
                        ctx, existing, "delete", op.get("vif_id")
                    )
                    ipr.link("del", index=existing.index)
                ctx.created[host] = "veth"
                mtu = {} if op.get("mtu") is None else {"mtu": op.get("mtu")}
                ipr.link(
                    "add",
                    ifname=host,
                    kind="veth",
                    peer={"ifname": ifname, **inside},
                    **mtu,
                )
            else:
                parent = require_link(op.get("parent")).index
                extra: dict[str, Any] = (
                    {"macvlan_mode": "bridge"}
                    if kind == "macvlan"
                    else {"vlan_id": op.get("vlan")}
                )
                ipr.link(
                    "add", ifname=ifname, kind=kind, link=parent,
                    **inside, **extra,
                )
    except NetlinkError as err:
        raise _failed(op, "create %s" % kind, err) from None
    finally:
        os.close(fd)


def _settle_inside(
    op: workload.EnsureWorkloadEnd, end: workload.End
) -> bool:
    """Apply :func:`.kernel.workload.differences` inside (thread inside)."""
    diffs = workload.differences(op, end)
    if not diffs:
        return False
    link_changes: dict[str, Any] = {}
    for diff in diffs:
        if diff.key in ("kind", "vlan"):
            raise _failed(
                op,
                "set up",
                "exists as %s %s, not %s"
                % (diff.key, diff.found, diff.wanted),
            )
        if diff.key in ("alias", "mtu", "mac", "up"):
            link_changes[diff.key] = diff.wanted
    if link_changes:
        with netlink.links() as requests:
            requests.set(end.link.index, **link_changes)
    lo = linkstate.read_link("lo")
    if lo is not None and not lo.up:
        with netlink.links() as requests:
            requests.set(lo.index, up=True)
    if any(diff.key == "ipv6" for diff in diffs):
        # The name was validated: the path stays in the device's directory.
        path = "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % op.device
        with open(path, "w") as handle:
            handle.write("0")
    with netlink.netlink() as ipr:
        for diff in diffs:
            if diff.key == "address":
                interface = ipaddress.ip_interface(diff.wanted)
                ipr.addr(
                    "add",
                    index=end.link.index,
                    address=str(interface.ip),
                    prefixlen=interface.network.prefixlen,
                    flags=_IFA_F_NODAD if interface.version == 6 else 0,
                )
        for diff in diffs:
            if diff.key == "route":
                destination, gateway = diff.wanted
                network = ipaddress.ip_network(destination)
                route: dict[str, Any] = {
                    "family": (
                        socket.AF_INET6 if network.version == 6
                        else socket.AF_INET
                    ),
                    "oif": end.link.index,
                    "dst_len": network.prefixlen,
                }
                if network.prefixlen:
                    route["dst"] = str(network.network_address)
                if gateway is not None:
                    route["gateway"] = gateway
                else:
                    route["scope"] = 253  # RT_SCOPE_LINK: on the link
                ipr.route("replace", **route)
    return True


@applies(workload.EnsureWorkloadEnd)
def apply_ensure_workload_end(
    op: workload.EnsureWorkloadEnd, ctx: Context
) -> bool:
    """Make the end if missing; bring both ends to what is asked."""
    link = _read(op)
    created = link is None
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
    else:
        _create(op, ctx)
    changed = created
    host = op.get("host")
    if host is not None:
        with netlink.links() as requests:
            changed |= set_link(
                ctx,
                requests,
                require_link(host),
                role="owned",
                vif_id=op.get("vif_id"),
                alias=ownership.OS_VIF_ALIAS if created else None,
                **op.host_wanted(),
            )
    try:
        with netns.entered(op.get("netns")):
            found = workload.read_end(op.device, op.route_versions())
            if found is None:
                raise _failed(op, "set up", "vanished")
            changed |= _settle_inside(op, found)
    except netns.Gone:
        raise _failed(op, "enter namespace", "no such namespace") from None
    except NetlinkError as err:
        raise _failed(op, "set up", err) from None
    return changed


@applies(workload.DeleteWorkloadEnd)
def apply_delete_workload_end(
    op: workload.DeleteWorkloadEnd, ctx: Context
) -> bool:
    """Delete the end (and the veth's host end); a gone namespace is done."""
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
    host = op.get("host")
    if host is not None:
        link = linkstate.read_link(host)
        if link is not None and link.kind == "veth" and (
            ownership.owner_rule(ctx, link, op.get("vif_id")) is not None
        ):
            with netlink.links() as requests:
                requests.delete(link.index)
            deleted = True
    return deleted
