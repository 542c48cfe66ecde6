"""The workload's end of a VIF: EnsureWorkloadEnd, DeleteWorkloadEnd.

The interface inside a workload's network namespace (a container's): the
peer of a veth whose host end goes where a plugin puts a tap, or a nested
VIF's macvlan / VLAN sub-interface of a host link, made directly in the
namespace.  Inside, it carries the VIF's MAC, the network's MTU, its
addresses and routes (see :class:`EnsureWorkloadEnd`).

:func:`read_end` reads the interface as both sides see it (the thread
inside the namespace, :func:`os_vif.internal.netns.entered`), and
:func:`differences` is the one comparison of wanted and actual: the
caller's check turns it into Problems, the daemon into its changes.
Reading another namespace needs ``CAP_SYS_ADMIN``; a caller without it
gets one Problem saying so.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from typing import Any

from os_vif import exception
from os_vif.internal import linkstate, netns, ownership, validation
from os_vif.internal.kernel import link as link_family
from os_vif.internal.kernel.base import (
    OWNER_PARAMS,
    REGISTRY,
    KernelOperation,
    params,
)
from os_vif.internal.operation import Problem, invalid

__all__ = [
    "KINDS",
    "End",
    "EnsureWorkloadEnd",
    "DeleteWorkloadEnd",
    "read_end",
    "differences",
]

#: What a workload's end is: a veth's peer, or a sub-interface of a host
#: link (nested VIFs).
KINDS = ("veth", "macvlan", "vlan")

#: The main routing table.
_MAIN_TABLE = 254


def _interface(value: Any, field: str) -> str:
    """``value`` as an address with its prefix (``10.0.0.5/24``)."""
    try:
        return str(ipaddress.ip_interface(str(value)))
    except ValueError:
        raise invalid(field, value, "not an address/prefix") from None


def _addresses(value: Any, field: str) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise invalid(field, value, "must be a list")
    return [_interface(item, field) for item in value]


def _network(value: Any, field: str) -> str:
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        raise invalid(field, value, "not a network prefix") from None


def _address(value: Any, field: str) -> str:
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise invalid(field, value, "not an IP address") from None


def _routes(value: Any, field: str) -> list[list[str | None]]:
    """A list of ``[destination prefix, gateway or None]``."""
    if not isinstance(value, (list, tuple)):
        raise invalid(field, value, "must be a list")
    found: list[list[str | None]] = []
    for item in value:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise invalid(field, item, "a route is [destination, gateway]")
        destination = _network(item[0], field)
        gateway = None if item[1] is None else _address(item[1], field)
        if gateway is not None and (
            ipaddress.ip_address(gateway).version
            != ipaddress.ip_network(destination).version
        ):
            raise invalid(field, item, "gateway of another IP version")
        found.append([destination, gateway])
    return found


def _netns(value: Any, field: str) -> str:
    return validation.netns_reference(value, field)


def _kind(value: Any, field: str) -> str:
    return str(validation.one_of(value, KINDS, field))


@dataclasses.dataclass(frozen=True)
class End:
    """A workload's interface as read inside its namespace."""

    link: linkstate.Link
    #: Its addresses with their prefixes (``10.0.0.5/24``), link-local
    #: IPv6 ones left out (the kernel makes them).
    addresses: frozenset[str]
    #: Its routes of the main table, ``(destination, gateway or None)``.
    routes: frozenset[tuple[str, str | None]]
    #: ``net.ipv6.conf.<ifname>.disable_ipv6`` (None: no IPv6 here).
    ipv6_disabled: int | None


def _ipr() -> Any:
    # pyroute2 decodes addresses and routes; imported on first use, as
    # most plans have no workload's end.
    from pyroute2 import IPRoute

    return IPRoute()


#: The route families, by IP version.
_FAMILIES = {4: (socket.AF_INET, "0.0.0.0/0"), 6: (socket.AF_INET6, "::/0")}


def read_end(ifname: str, versions: tuple[int, ...] = (4, 6)) -> End | None:
    """Read ``ifname`` in the calling thread's namespace (None: absent).

    Its routes of the IP ``versions`` only (those an operation compares).
    """
    link = linkstate.read_link(ifname)
    if link is None:
        return None
    addresses = set()
    routes = set()
    with _ipr() as ipr:
        for msg in ipr.get_addr(index=link.index):
            address = msg.get_attr("IFA_ADDRESS")
            interface = ipaddress.ip_interface(
                "%s/%d" % (address, msg["prefixlen"])
            )
            if interface.version == 6 and interface.ip.is_link_local:
                continue
            addresses.add(str(interface))
        for family, default in (_FAMILIES[v] for v in versions):
            for msg in ipr.get_routes(family=family, table=_MAIN_TABLE):
                if msg.get_attr("RTA_OIF") != link.index:
                    continue
                destination = msg.get_attr("RTA_DST")
                prefix = (
                    default
                    if destination is None
                    else _network(
                        "%s/%d" % (destination, msg["dst_len"]), "route"
                    )
                )
                gateway = msg.get_attr("RTA_GATEWAY")
                routes.add(
                    (
                        prefix,
                        None if gateway is None
                        else _address(gateway, "route"),
                    )
                )
    return End(
        link=link,
        addresses=frozenset(addresses),
        routes=frozenset(routes),
        ipv6_disabled=linkstate.read_sysctl(ifname, "ipv6", "disable_ipv6"),
    )


@REGISTRY.register
class EnsureWorkloadEnd(KernelOperation):
    """The workload's interface ``name`` exists in ``netns``, as asked.

    ``kind`` ``veth``: the peer of the veth ``host`` (on ``master`` when
    given: a bridge; an OVS port names it otherwise), both made at once,
    the peer directly in the namespace.  ``macvlan`` / ``vlan`` (with
    ``vlan``): a sub-interface of the host link ``parent``, made directly
    in the namespace.  Inside: ``mac``, ``mtu``, up, os_vif's mark, every
    one of ``addresses``, ``routes`` (``[destination, gateway or None]``;
    the default route is one of them) and IPv6 enabled with ``ipv6``.

    Undone by :class:`DeleteWorkloadEnd` (deleting either end of a veth
    deletes both).  An end that exists already must carry os_vif's mark
    and be of ``kind``; what differs is repaired (its missing addresses
    and routes added, other ones left alone), and a later failure of the
    plan does not take those repairs back.
    """

    NAME = "ensure_workload_end"
    PARAMS = params(
        OWNER_PARAMS,
        netns=_netns,
        name=validation.interface_name,
        kind=_kind,
        host=validation.interface_name,
        master=validation.interface_name,
        parent=validation.interface_name,
        vlan=validation.vlan_id,
        mac=validation.mac_address,
        mtu=validation.mtu,
        addresses=_addresses,
        routes=_routes,
        ipv6=validation.boolean,
    )
    REQUIRED = frozenset({"netns", "name", "kind"})

    def __init__(self, /, **arguments: Any) -> None:
        """Validate; each kind has the arguments it needs, and no others."""
        super().__init__(**arguments)
        kind = self.get("kind")
        needs = {
            "veth": ("host",),
            "macvlan": ("parent",),
            "vlan": ("parent", "vlan"),
        }[kind]
        refused = {
            "veth": ("parent", "vlan"),
            "macvlan": ("host", "master", "vlan"),
            "vlan": ("host", "master"),
        }[kind]
        for key in needs:
            if self.get(key) is None:
                raise invalid(
                    "%s.%s" % (self.NAME, key),
                    None,
                    "a %s end needs it" % kind,
                )
        for key in refused:
            if self.get(key) is not None:
                raise invalid(
                    "%s.%s" % (self.NAME, key),
                    self.get(key),
                    "a %s end takes no %s" % (kind, key),
                )

    def route_versions(self) -> tuple[int, ...]:
        """The IP versions of the routes asked for (what to read)."""
        return tuple(
            sorted(
                {
                    ipaddress.ip_network(destination).version
                    for destination, _gateway in self.get("routes", [])
                }
            )
        )

    def host_wanted(self) -> dict[str, Any]:
        """What :func:`.link.differences` compares on the veth's host end."""
        return {
            "mtu": self.get("mtu"),
            "up": True,
            "master": self.get("master"),
        }

    def admit(self, scope: ownership.Scope) -> None:
        """The host end, if there, must be a veth os_vif owns; a parent
        must exist.  (Inside the namespace the daemon judges, as it enters
        it.)"""
        host = self.get("host")
        if host is not None:
            link = linkstate.read_link(host)
            if link is not None:
                ownership.require_kind(link, "veth", "create a veth")
                ownership.require_owned(
                    scope, link, "change", self.get("vif_id")
                )
        parent = self.get("parent")
        if parent is not None and linkstate.read_link(parent) is None:
            raise exception.NetworkInterfaceNotFound(interface=parent)

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the host end and the end inside with what is asked."""
        found: list[Problem] = []
        host = self.get("host")
        if host is not None:
            found += link_family.problems(
                host, linkstate.read_link(host), "veth", **self.host_wanted()
            )
        where = "namespace %s" % self.get("netns")
        try:
            with netns.entered(self.get("netns")):
                end = read_end(self.device, self.route_versions())
        except netns.Gone:
            return found + [Problem(where, "exists", True, False)]
        except PermissionError:
            return found + [
                Problem(where, "readable without CAP_SYS_ADMIN", True, False)
            ]
        what = "device %s in %s" % (self.device, where)
        if end is None:
            return found + [Problem(what, "exists", True, False)]
        return found + [
            Problem(what, diff.key, diff.wanted, diff.found)
            for diff in differences(self, end)
        ]


def differences(
    op: EnsureWorkloadEnd, end: End
) -> list[link_family.Difference]:
    """What differs between ``end`` and what ``op`` asks, inside.

    The keys: ``kind``, ``alias``, ``mtu``, ``mac``, ``up`` (as
    :func:`.link.differences`), ``vlan``, ``ipv6``, and one ``address`` or
    ``route`` per one missing (``wanted`` the missing one).
    """
    Difference = link_family.Difference
    found: list[link_family.Difference] = []
    if end.link.kind != op.get("kind"):
        found.append(Difference("kind", op.get("kind"), end.link.kind))
    if op.get("vlan") is not None and end.link.vlan_id != op.get("vlan"):
        found.append(Difference("vlan", op.get("vlan"), end.link.vlan_id))
    found += link_family.differences(
        end.link,
        alias=linkstate.OS_VIF_ALIAS,
        mtu=op.get("mtu"),
        mac=op.get("mac"),
        up=True,
    )
    if op.get("ipv6", False) and end.ipv6_disabled != 0:
        found.append(Difference("ipv6", True, end.ipv6_disabled == 0))
    for address in op.get("addresses", []):
        if address not in end.addresses:
            found.append(Difference("address", address, None))
    for destination, gateway in op.get("routes", []):
        if (destination, gateway) not in end.routes:
            found.append(
                Difference("route", [destination, gateway], None)
            )
    return found


@REGISTRY.register
class DeleteWorkloadEnd(KernelOperation):
    """The workload's interface ``name`` in ``netns`` is gone.

    Deleted if os_vif's (marked); a namespace that is gone is done (its
    devices went with it).  With ``host``, the veth's host end is deleted
    too if it is still there and os_vif's (deleting either end of a veth
    deletes both).
    """

    NAME = "delete_workload_end"
    PARAMS = params(
        OWNER_PARAMS,
        netns=_netns,
        name=validation.interface_name,
        host=validation.interface_name,
    )
    REQUIRED = frozenset({"netns", "name"})

    def admit(self, scope: ownership.Scope) -> None:
        """The host end, if there, must be a veth os_vif owns."""
        host = self.get("host")
        if host is None:
            return
        link = linkstate.read_link(host)
        if link is not None:
            ownership.require_kind(link, "veth", "delete a veth")
            ownership.require_owned(scope, link, "delete", self.get("vif_id"))

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Both ends should be absent."""
        found: list[Problem] = []
        host = self.get("host")
        if host is not None and linkstate.read_link(host) is not None:
            found.append(Problem("device %s" % host, "exists", False, True))
        where = "namespace %s" % self.get("netns")
        try:
            with netns.entered(self.get("netns")):
                present = linkstate.read_link(self.device) is not None
        except netns.Gone:
            return found
        except PermissionError:
            return found + [
                Problem(where, "readable without CAP_SYS_ADMIN", True, False)
            ]
        if present:
            found.append(
                Problem(
                    "device %s in %s" % (self.device, where),
                    "exists",
                    False,
                    True,
                )
            )
        return found
