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
Reading another namespace needs ``CAP_SYS_ADMIN``: a caller without it
(nova-compute, zun-compute) gets an :class:`Unread` Problem, which
:func:`os_vif.check` has the workload daemon read (:func:`read_wire`,
:func:`end_from_wire`: plain data across privsep) and compares here, and
which a plug leaves to the daemon (it reads the end again anyway).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from typing import Any

from os_vif import exception
from os_vif.internal import inside, linkstate, netns, ownership, validation
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
    "RestoreWorkloadEnd",
    "Unread",
    "read_end",
    "differences",
    "read_wire",
    "parse_read",
    "end_to_wire",
    "end_from_wire",
    "MAX_READS",
]

#: The most ends one read of the daemon reads (a check_many's, a node's).
MAX_READS = 4096

#: What a workload's end is: a veth's peer, or a sub-interface of a host
#: link (nested VIFs).
KINDS = ("veth", "macvlan", "vlan")


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


def _alias(value: Any, field: str) -> str:
    """An interface alias to put back ("": none)."""
    if not isinstance(value, str) or len(value.encode()) > 127 or (
        not value.isprintable()
    ):
        raise invalid(field, value, "an alias is up to 127 printable bytes")
    return value


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
    #: The index of its lower link (a nested end's parent) in the host's
    #: namespace; None if it has none there (or it was not asked).
    parent_index: int | None = None


def read_end(
    ifname: str,
    versions: tuple[int, ...] = (4, 6),
    home: int | None = None,
) -> End | None:
    """Read ``ifname`` in the calling thread's namespace (None: absent).

    Its routes of the IP ``versions`` only (those an operation compares).
    ``home``: a descriptor of the namespace where a nested end's parent
    is (the host's), to say which of its links is the end's lower link.
    """
    found = inside.read_link(ifname)
    if found is None:
        return None
    link, lower = found
    parent_index = None
    if home is not None and lower.index and lower.netnsid is not None:
        # IFLA_LINK names an ifindex of the namespace IFLA_LINK_NETNSID
        # says (an id this namespace gives it); without that, of this one.
        if inside.nsid_of(home) == lower.netnsid:
            parent_index = lower.index
    routes: set[tuple[str, str | None]] = set()
    for version in versions:
        routes |= inside.routes(link.index, version)
    return End(
        link=link,
        addresses=frozenset(inside.addresses(link.index)),
        routes=frozenset(routes),
        ipv6_disabled=linkstate.read_sysctl(ifname, "ipv6", "disable_ipv6"),
        parent_index=parent_index,
    )


def _versions(value: Any, field: str) -> tuple[int, ...]:
    """IP versions to read routes of: a list of 4 and/or 6."""
    if not isinstance(value, (list, tuple)) or any(
        isinstance(item, bool) or item not in (4, 6) for item in value
    ):
        raise invalid(field, value, "a list of IP versions (4, 6)")
    return tuple(sorted(set(value)))


def read_wire(op: EnsureWorkloadEnd, nested: bool) -> dict[str, Any]:
    """What the workload daemon is asked to read for ``op``: plain data
    (see :func:`parse_read`)."""
    return {
        "netns": op.get("netns"),
        "name": op.device,
        "versions": list(op.route_versions()),
        "nested": nested,
    }


def parse_read(
    value: Any, field: str = "read"
) -> tuple[str, str, tuple[int, ...], bool]:
    """Validate a :func:`read_wire` request again (the daemon trusts no
    caller): ``(netns, name, versions, nested)``.

    :raises InvalidArgument: naming ``field`` and what is wrong.
    """
    if not isinstance(value, Mapping):
        raise invalid(field, value, "a read is a mapping")
    unknown = set(value) - {"netns", "name", "versions", "nested"}
    if unknown:
        raise invalid(field, sorted(unknown), "unknown keys")
    for key in ("netns", "name"):
        if key not in value:
            raise invalid("%s.%s" % (field, key), None, "required")
    nested = value.get("nested", False)
    if not isinstance(nested, bool):
        raise invalid("%s.nested" % field, nested, "must be a boolean")
    return (
        _netns(value["netns"], "%s.netns" % field),
        validation.interface_name(value["name"], "%s.name" % field),
        _versions(value.get("versions", []), "%s.versions" % field),
        nested,
    )


_LINK_FIELDS = tuple(
    field.name for field in dataclasses.fields(linkstate.Link)
)


def end_to_wire(end: End) -> dict[str, Any]:
    """``end`` as plain data (what privsep carries back)."""
    return {
        "link": {key: getattr(end.link, key) for key in _LINK_FIELDS},
        "addresses": sorted(end.addresses),
        "routes": sorted([list(route) for route in end.routes], key=str),
        "ipv6_disabled": end.ipv6_disabled,
        "parent_index": end.parent_index,
    }


def end_from_wire(data: Any) -> End:
    """The :class:`End` :func:`end_to_wire` made.

    :raises InvalidArgument: ``data`` is not such an end (a daemon of
        another version).
    """
    try:
        link = linkstate.Link(
            **{key: data["link"][key] for key in _LINK_FIELDS}
        )
        return End(
            link=link,
            addresses=frozenset(str(item) for item in data["addresses"]),
            routes=frozenset(
                (str(destination), None if gateway is None else str(gateway))
                for destination, gateway in data["routes"]
            ),
            ipv6_disabled=data["ipv6_disabled"],
            parent_index=data["parent_index"],
        )
    except (KeyError, TypeError, ValueError):
        raise invalid("end", data, "not a workload's end") from None


@dataclasses.dataclass(frozen=True)
class Unread(Problem):
    """The end could not be read here: the caller may not enter the
    namespace (no ``CAP_SYS_ADMIN``).

    A Problem as any other (a plug sends its plan to the workload daemon,
    which reads the end again); :func:`os_vif.check` replaces it with the
    comparison of what the daemon read (:func:`read_wire`).
    """

    #: The operation whose end it is.
    op: EnsureWorkloadEnd | None = dataclasses.field(
        default=None, compare=False, repr=False
    )
    #: The index of a nested end's parent here (None: not compared).
    parent_index: int | None = dataclasses.field(
        default=None, compare=False, repr=False
    )
    #: Whether the daemon says which host link is the end's lower link.
    nested: bool = dataclasses.field(default=False, compare=False, repr=False)


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
    and be of ``kind`` (a nested one: of ``parent``, which a
    sub-interface cannot change); what differs is repaired (its missing
    addresses and routes added, other ones left alone), each repair
    undone by a :class:`RestoreWorkloadEnd` recorded before it, so that a
    later failure of the plan puts the end back as it was.
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
        parent = self.get("parent")
        # A parent that is gone took its sub-interfaces with it: the end
        # is reported missing then.
        parent_link = None if parent is None else linkstate.read_link(parent)
        parent_index = None if parent_link is None else parent_link.index
        where = "namespace %s" % self.get("netns")
        try:
            end = self.read(parent_index is not None)
        except netns.Gone:
            return found + [Problem(where, "exists", True, False)]
        except PermissionError:
            return found + [
                Unread(
                    where,
                    "readable without CAP_SYS_ADMIN",
                    True,
                    False,
                    op=self,
                    parent_index=parent_index,
                    nested=parent_index is not None,
                )
            ]
        return found + self.problems(end, parent_index)

    def problems(
        self, end: End | None, parent_index: int | None = None
    ) -> list[Problem]:
        """The Problems of ``end`` as read inside (None: absent); a nested
        end's parent compared with the host link ``parent_index``."""
        what = "device %s in namespace %s" % (self.device, self.get("netns"))
        if end is None:
            return [Problem(what, "exists", True, False)]
        return [
            Problem(what, diff.key, diff.wanted, diff.found)
            for diff in differences(self, end, parent_index)
        ]

    def read(self, nested: bool) -> End | None:
        """Enter the namespace and read the end (see :func:`read_end`);
        ``nested``: say which host link is its lower link too.

        :raises netns.Gone: no such namespace.
        :raises PermissionError: no ``CAP_SYS_ADMIN``.
        """
        home = (
            os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            if nested
            else None
        )
        try:
            with netns.entered(self.get("netns")):
                return read_end(self.device, self.route_versions(), home)
        finally:
            if home is not None:
                os.close(home)


def differences(
    op: EnsureWorkloadEnd, end: End, parent_index: int | None = None
) -> list[link_family.Difference]:
    """What differs between ``end`` and what ``op`` asks, inside.

    The keys: ``kind``, ``parent`` (a nested end's lower link is not the
    host link ``parent``, whose index is ``parent_index``: compared when
    given), ``vlan``, ``alias``, ``mtu``, ``mac``, ``up`` (as
    :func:`.link.differences`), ``ipv6``, and one ``address`` or ``route``
    per one missing (``wanted`` the missing one).  ``kind``, ``parent``
    and ``vlan`` cannot be changed on an existing end.
    """
    Difference = link_family.Difference
    found: list[link_family.Difference] = []
    if end.link.kind != op.get("kind"):
        found.append(Difference("kind", op.get("kind"), end.link.kind))
    if (
        op.get("parent") is not None
        and parent_index is not None
        and end.parent_index != parent_index
    ):
        found.append(
            Difference(
                "parent",
                op.get("parent"),
                "another link"
                if end.parent_index is None
                else "ifindex %d" % end.parent_index,
            )
        )
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
    deletes both).  In a call that only deletes (an unplug of many), the
    daemon deletes such a host end with the call's other links and does
    not enter the namespace: the peer goes with it.
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


@REGISTRY.register
class RestoreWorkloadEnd(KernelOperation):
    """Put back what a re-plug repaired on the existing end ``name``.

    The undo :class:`EnsureWorkloadEnd` records before it changes an end
    that was there: ``routes`` and ``addresses`` (those it added) are
    removed, ``routes_back`` (those its routes replaced) put back, the
    link's ``mtu``, ``mac``, ``up`` and ``alias`` (``""``: none) set
    again, and IPv6 disabled again with ``ipv6_disabled``.  An end or a
    namespace that is gone is done; os_vif puts back only what it marked,
    as it changes only that.
    """

    NAME = "restore_workload_end"
    PARAMS = params(
        OWNER_PARAMS,
        netns=_netns,
        name=validation.interface_name,
        mtu=validation.mtu,
        mac=validation.mac_address,
        up=validation.boolean,
        alias=_alias,
        ipv6_disabled=validation.boolean,
        addresses=_addresses,
        routes=_routes,
        routes_back=_routes,
    )
    REQUIRED = frozenset({"netns", "name"})

    def link_wanted(self) -> dict[str, Any]:
        """The link attributes it puts back (those given)."""
        return {
            key: self.get(key)
            for key in ("alias", "mtu", "mac", "up")
            if self.get(key) is not None
        }

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """What is not back yet (nothing when the end is gone)."""
        try:
            with netns.entered(self.get("netns")):
                end = read_end(self.device)
        except netns.Gone:
            return []
        except PermissionError:
            where = "namespace %s" % self.get("netns")
            return [
                Problem(where, "readable without CAP_SYS_ADMIN", True, False)
            ]
        if end is None:
            return []
        what = "device %s in namespace %s" % (self.device, self.get("netns"))
        wanted = self.link_wanted()
        if wanted.get("alias") == "":
            wanted["alias"] = None
        found = [
            Problem(what, key, value, getattr(end.link, key))
            for key, value in wanted.items()
            if (
                getattr(end.link, key) or None
                if key == "alias"
                else getattr(end.link, key)
            ) != value
        ]
        if self.get("ipv6_disabled") and end.ipv6_disabled == 0:
            found.append(Problem(what, "ipv6", False, True))
        found += [
            Problem(what, "address", None, address)
            for address in self.get("addresses", [])
            if address in end.addresses
        ]
        found += [
            Problem(what, "route", None, list(route))
            for route in self.get("routes", [])
            if tuple(route) in end.routes
        ]
        found += [
            Problem(what, "route", list(route), None)
            for route in self.get("routes_back", [])
            if tuple(route) not in end.routes
        ]
        return found
