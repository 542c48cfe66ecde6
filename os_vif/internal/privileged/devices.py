"""Kernel device operations: one class per operation (netlink, /proc/sys).

Each class validates its arguments when made, ``admit``\\ s (ownership,
:mod:`.ownership`) and ``apply``\\ s in the privileged daemon, and
``check``\\ s in the caller without privilege (:mod:`..unprivileged.
linkstate` reads).  ``None`` arguments mean "leave alone".

=========================  ================================================
:class:`EnsureBridge`      bridge (STP off, forward delay 0, optionally
                           MAC ageing and multicast snooping off, if
                           created), MTU, MAC, state, IPv6 off
:class:`EnsureTap`         persistent tap (optionally multiqueue), IPv6
                           off before it comes up, MTU, MAC, state, master
:class:`EnsureVeth`        veth pair, MTU and state of both ends (both
                           promiscuous if created, as asked)
:class:`EnsureVlan`        802.1Q device on a lower device
:class:`SetLink`           MTU, MAC, state, master (or none) of a device
:class:`SetSysctl`         an allow-listed per-device sysctl
:class:`DeleteDevice`      delete a device os_vif owns; absent is fine
:class:`RemoveBridgeIfUnused`  delete a bridge os_vif made once only its
                           uplinks are left, with the uplinks it made
:class:`SetVf`             MAC, VLAN, spoof check, trust, link state of an
                           SR-IOV VF, set on its PF
=========================  ================================================

``ensure_*`` operations are idempotent: what exists with the requested
attributes is left untouched, differing attributes are changed in one
netlink request.  Devices os_vif creates carry the alias
:data:`~.ownership.OS_VIF_ALIAS`.
"""

from __future__ import annotations

import fcntl
import os
import struct
from collections.abc import Callable
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.rtnl.ifinfmsg import tuntap as _tuntap

from os_vif import exception
from os_vif.internal import linkstate, ownership, validation
from os_vif.internal.operation import Problem, Validator
from os_vif.internal.privileged.executor import (
    REGISTRY,
    Context,
    KernelOperation,
)
from os_vif.internal.privileged.netlink import LinkRequests, links, netlink

__all__ = [
    "SYSCTLS",
    "EnsureBridge",
    "EnsureTap",
    "EnsureVeth",
    "EnsureVlan",
    "SetLink",
    "SetSysctl",
    "DeleteDevice",
    "RemoveBridgeIfUnused",
    "SetVf",
    "disable_ipv6",
]

#: Per-device sysctls a plan may set: (family, key) -> allowed values.
SYSCTLS: dict[tuple[str, str], tuple[int, ...]] = {
    ("ipv6", "disable_ipv6"): (0, 1),
    ("ipv4", "arp_ignore"): tuple(range(9)),
    ("ipv4", "arp_announce"): (0, 1, 2),
    ("ipv4", "arp_filter"): (0, 1),
}

_IFF_TAP = 0x0002
_IFF_PROMISC = 0x0100
_IFF_MULTI_QUEUE = 0x0100
_TUN_DEVICE = "/dev/net/tun"

_LINK: dict[str, Validator] = {
    "mtu": validation.optional_mtu,
    "mac": validation.optional_mac_address,
    "up": validation.optional_boolean,
    "master": validation.optional_interface_name,
}
_OWNER: dict[str, Validator] = {"vif_id": validation.vif_id}


def _params(
    *bases: dict[str, Validator],
    drop: tuple[str, ...] = (),
    **more: Validator,
) -> dict[str, Validator]:
    params: dict[str, Validator] = {}
    for base in bases:
        params.update(base)
    params.update(more)
    for key in drop:
        del params[key]
    return params


def _require_link(name: str) -> linkstate.Link:
    link = linkstate.read_link(name)
    if link is None:
        raise exception.NetworkInterfaceNotFound(interface=name)
    return link


def _link_problems(
    name: str,
    device: linkstate.DeviceInfo | None,
    kind: str | None,
    **wanted: Any,
) -> list[Problem]:
    """What differs between ``device`` and the wanted attributes."""
    what = "device %s" % name
    if device is None:
        return [Problem(what, "exists", True, False)]
    problems = []
    if kind is not None and device.kind != kind:
        problems.append(Problem(what, "kind", kind, device.kind))
    found = {
        "mtu": device.mtu,
        "mac": (device.mac or "").lower() or None,
        "up": device.up,
        "master": device.master,
    }
    for key, value in wanted.items():
        if value is not None and found[key] != value:
            problems.append(Problem(what, key, value, found[key]))
    return problems


def _sysctl_path(name: str, family: str, key: str) -> str:
    # The name was validated: no '/', not '.' or '..', so the path cannot
    # leave the device's own directory.
    return "/proc/sys/net/%s/conf/%s/%s" % (family, name, key)


def _write_sysctl(
    ctx: Context,
    name: str,
    family: str,
    key: str,
    value: int,
    role: str,
    vif_id: str | None,
) -> bool:
    """Write the sysctl if it differs; record its undo first.

    The undo carries the VIF id of the operation (see :func:`_set_link`).
    """
    path = _sysctl_path(name, family, key)
    try:
        with open(path) as handle:
            old = handle.read().strip()
    except FileNotFoundError:
        if family == "ipv6" and not os.path.isdir("/proc/sys/net/ipv6"):
            # IPv6 is disabled in this kernel: nothing to turn off.
            return False
        raise
    if old == str(value):
        return False
    if name not in ctx.created:
        ctx.record_undo(
            SetSysctl(
                name=name,
                family=family,
                key=key,
                value=int(old),
                role=role,
                vif_id=vif_id,
            )
        )
    with open(path, "w") as handle:
        handle.write(str(value))
    return True


def _set_link(
    ctx: Context,
    requests: LinkRequests,
    link: linkstate.Link,
    *,
    role: str,
    vif_id: str | None,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = None,
    master: str | None = None,
    nomaster: bool = False,
    alias: str | None = None,
) -> bool:
    """Bring ``link`` to the given attributes in at most one request.

    The undo (the previous values) is recorded first, except for a device
    this plan created: deleting it undoes everything.  It carries
    ``vif_id``, the ownership proof the operation was admitted with: the
    client runs the undo as a plan of its own when a later part of the
    plug fails, and a device os_vif owns only as what os-vif 5.x made for
    this VIF (no alias) is admitted then by that proof alone.
    """
    changes: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    if alias is not None and link.alias != alias:
        changes["alias"] = alias
    if mtu is not None and link.mtu != mtu:
        changes["mtu"], previous["mtu"] = mtu, link.mtu
    if mac is not None and link.mac != mac:
        changes["mac"], previous["mac"] = mac, link.mac
    if up is not None and link.up != up:
        changes["up"], previous["up"] = up, link.up
    current = link.master_index
    if master is not None:
        wanted = _require_link(master).index
        if current != wanted:
            changes["master"] = wanted
            previous["master"] = current
    elif nomaster and current:
        changes["master"], previous["master"] = 0, current
    if not changes:
        return False
    if previous and link.name not in ctx.created:
        undo: dict[str, Any] = dict(previous)
        old_master = undo.pop("master", None)
        if old_master is not None:
            master_link = (
                linkstate.read_link(index=old_master) if old_master else None
            )
            if master_link is None:
                undo["nomaster"] = True
            else:
                undo["master"] = master_link.name
        ctx.record_undo(
            SetLink(name=link.name, role=role, vif_id=vif_id, **undo)
        )
    requests.set(link.index, **changes)
    return True


def _created(ctx: Context, name: str) -> linkstate.Link:
    # The kernel ignores an alias in the creating request: the caller's
    # _set_link(..., alias=OS_VIF_ALIAS) marks the device in the request
    # that sets its other attributes (each request is a round trip, and
    # wakes every netlink listener: ovs-vswitchd among them).
    return _require_link(name)


def _find_or_create(
    ctx: Context, name: str, kind: str, create: Callable[[], Any]
) -> tuple[linkstate.Link, bool]:
    """Return the device ``name`` and whether this call created it."""
    link = linkstate.read_link(name)
    if link is not None:
        ownership.require_kind(link, kind, "create a %s" % kind)
        return link, False
    ctx.creating(name, kind)
    create()
    return _created(ctx, name), True


def _ageing(value: Any, field: str) -> int:
    # IFLA_BR_AGEING_TIME, in hundredths of a second; 0 turns ageing off.
    return validation.integer_in_range(value, 0, 2**31 - 1, field)


def _set_promiscuous(index: int) -> None:
    """Turn the promiscuous flag of link ``index`` on (one request)."""
    with netlink() as ipr:
        ipr.link("set", index=index, flags=_IFF_PROMISC, change=_IFF_PROMISC)


def _alias(created: bool) -> str | None:
    # Only devices os_vif made carry the mark; an existing device's alias
    # is its owner's.
    return ownership.OS_VIF_ALIAS if created else None


def _admit_own(ctx: Context, name: str, kind: str, vif_id: str | None) -> None:
    link = linkstate.read_link(name)
    if link is not None:
        ownership.require_kind(link, kind, "create a %s" % kind)
        ownership.require_owned(ctx, link, "change", vif_id)


@REGISTRY.register
class EnsureBridge(KernelOperation):
    """Bridge ``name`` exists, set up as asked.

    A new bridge has STP off and forward delay 0, so that a guest's port
    forwards at once; an existing one keeps its STP settings.  ``ageing``
    (hundredths of a second, 0: never forget a MAC) and
    ``multicast_snooping`` are set when the bridge is made, as os-vif 5.x
    made its hybrid ``qbr``: a bridge that forgets no MAC and floods
    multicast loses nothing while a guest moves (live migration).  With
    ``role="bridge"`` (a bridge a network names) an existing bridge os_vif
    does not own may be set up and used; otherwise (``owned``, a VIF's own
    bridge such as ``qbr``) it must be os_vif's.
    """

    NAME = "ensure_bridge"
    # The Linux bridge of a network: every VIF on it names it.
    SHARED = True
    PARAMS = _params(
        _LINK,
        _OWNER,
        name=validation.interface_name,
        disable_ipv6=validation.boolean,
        role=validation.role(("owned", "bridge")),
        ageing=_ageing,
        multicast_snooping=validation.boolean,
        drop=("master",),
    )

    @property
    def shared(self) -> bool:
        """Only a network's bridge: a VIF's own (``qbr``) is its plan's."""
        return self.get("role") == "bridge"

    def _creation_data(self) -> tuple[tuple[str, int], ...]:
        data: tuple[tuple[str, int], ...] = (
            ("IFLA_BR_STP_STATE", 0),
            ("IFLA_BR_FORWARD_DELAY", 0),
        )
        if self.get("ageing") is not None:
            data += (("IFLA_BR_AGEING_TIME", self.get("ageing")),)
        if self.get("multicast_snooping") is not None:
            data += (
                (
                    "IFLA_BR_MCAST_SNOOPING",
                    int(self.get("multicast_snooping")),
                ),
            )
        return data

    def admit(self, ctx: Context) -> None:
        """An existing device must be a bridge (and os_vif's if owned)."""
        link = linkstate.read_link(self.device)
        if link is None:
            return
        ownership.require_kind(link, "bridge", "use as a bridge")
        if self.get("role", "owned") == "owned":
            ownership.require_owned(ctx, link, "change", self.get("vif_id"))
        elif self.get("mac") is not None:
            ownership.require_owned(ctx, link, "set the MAC of", None)

    def apply(self, ctx: Context) -> bool:
        """Create or set up the bridge."""
        name, mtu = self.device, self.get("mtu")
        with links() as requests:
            link, created = _find_or_create(
                ctx,
                name,
                "bridge",
                lambda: requests.add(
                    name,
                    "bridge",
                    mtu=mtu,
                    data=self._creation_data(),
                ),
            )
            role = self.get("role", "owned")
            # IPv6 off before the bridge comes up: no link-local address
            # and no router solicitation ever leave it.
            changed = self.get("disable_ipv6", False) and _write_sysctl(
                ctx, name, "ipv6", "disable_ipv6", 1, role, self.get("vif_id")
            )
            changed |= _set_link(
                ctx,
                requests,
                link,
                role=role,
                vif_id=self.get("vif_id"),
                mtu=mtu,
                mac=self.get("mac"),
                up=self.get("up", True),
                alias=_alias(created),
            )
            return created or changed

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the bridge (and its IPv6 sysctl) with what is asked."""
        name = self.device
        problems = _link_problems(
            name,
            linkstate.get_device(name),
            "bridge",
            mtu=self.get("mtu"),
            mac=self.get("mac"),
            up=self.get("up", True),
        )
        if not problems and self.get("disable_ipv6", False):
            problems += _ipv6_problems(name)
        return problems


def _ipv6_problems(name: str) -> list[Problem]:
    """A problem unless IPv6 is off on ``name`` (or not in the kernel)."""
    found = linkstate.read_sysctl(name, "ipv6", "disable_ipv6")
    if found not in (1, None) or (
        found is None and os.path.isdir("/proc/sys/net/ipv6")
    ):
        return [Problem("device %s" % name, "disable_ipv6", 1, found)]
    return []


def _tap_ioctl(name: str, multiqueue: bool) -> None:
    # The flags os-vif 5.x's taps carry (no IFF_NO_PI): the hypervisor
    # sets its own when it attaches, and a tap made by either release looks
    # the same to operators' tools until then.
    flags = _IFF_TAP | (_IFF_MULTI_QUEUE if multiqueue else 0)
    request = struct.pack("16sH", name.encode(), flags)
    fd = os.open(_TUN_DEVICE, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, _tuntap.TUNSETIFF, request)
        # Persistent: the device outlives this file descriptor, until a
        # hypervisor opens it or os_vif deletes it.
        fcntl.ioctl(fd, _tuntap.TUNSETPERSIST, 1)
    finally:
        os.close(fd)


@REGISTRY.register
class EnsureTap(KernelOperation):
    """Persistent tap ``name`` exists, optionally attached to ``master``.

    With ``disable_ipv6`` IPv6 is turned off before the tap comes up: a
    tap given the guest's MAC would otherwise get the guest's own
    link-local address and send its duplicate address detection into the
    guest, whose own detection then fails (seen during live migration with
    OVN); the host needs no address on it.
    """

    NAME = "ensure_tap"
    PARAMS = _params(
        _LINK,
        _OWNER,
        name=validation.interface_name,
        multiqueue=validation.boolean,
        disable_ipv6=validation.boolean,
    )

    def admit(self, ctx: Context) -> None:
        """An existing device must be a tap os_vif owns."""
        _admit_own(ctx, self.device, "tun", self.get("vif_id"))

    def apply(self, ctx: Context) -> bool:
        """Create the tap if missing; set its attributes."""
        name = self.device
        with links() as requests:
            link, created = _find_or_create(
                ctx,
                name,
                "tun",
                lambda: _tap_ioctl(name, self.get("multiqueue", False)),
            )
            # Before the request that brings the tap up (see the class).
            ipv6_changed = self.get("disable_ipv6", False) and _write_sysctl(
                ctx,
                name,
                "ipv6",
                "disable_ipv6",
                1,
                "owned",
                self.get("vif_id"),
            )
            changed = _set_link(
                ctx,
                requests,
                link,
                role="owned",
                vif_id=self.get("vif_id"),
                mtu=self.get("mtu"),
                mac=self.get("mac"),
                up=self.get("up", True),
                master=self.get("master"),
                alias=_alias(created),
            )
            return created or changed or ipv6_changed

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the tap (and its IPv6 sysctl) with what is asked."""
        problems = _link_problems(
            self.device,
            linkstate.get_device(self.device),
            "tun",
            mtu=self.get("mtu"),
            mac=self.get("mac"),
            up=self.get("up", True),
            master=self.get("master"),
        )
        if not problems and self.get("disable_ipv6", False):
            problems += _ipv6_problems(self.device)
        return problems


@REGISTRY.register
class EnsureVeth(KernelOperation):
    """The veth pair ``name``/``peer`` exists, ``name`` on ``master``.

    Both ends get the MTU and state.  If only one end exists it is a
    leftover of an interrupted plug: it is deleted (if os_vif's) and the
    pair made again.  With ``promisc`` both ends of a new pair are made
    promiscuous, as os-vif 5.x made the hybrid plug's ``qvb``/``qvo``.
    """

    NAME = "ensure_veth"
    PARAMS = _params(
        _LINK,
        _OWNER,
        name=validation.interface_name,
        peer=validation.interface_name,
        promisc=validation.boolean,
        drop=("mac",),
    )
    REQUIRED = frozenset({"name", "peer"})

    def __init__(self, /, **arguments: Any) -> None:
        """Validate; the peer and the master must differ from the name."""
        super().__init__(**arguments)
        name, peer, master = self.device, self.get("peer"), self.get("master")
        if name == peer:
            raise exception.InvalidArgument(
                field="ensure_veth.peer", value=peer, reason="equals name"
            )
        if master is not None and master in (name, peer):
            raise exception.InvalidArgument(
                field="ensure_veth.master",
                value=master,
                reason="is a veth end",
            )

    def admit(self, ctx: Context) -> None:
        """Existing ends must be veths os_vif owns."""
        for end in (self.device, self.get("peer")):
            _admit_own(ctx, end, "veth", self.get("vif_id"))

    def apply(self, ctx: Context) -> bool:
        """Create the pair if either end is missing; set both ends."""
        name, peer, master = self.device, self.get("peer"), self.get("master")
        mtu, up = self.get("mtu"), self.get("up", True)
        with links() as requests:
            link, peer_link = (
                linkstate.read_link(name),
                linkstate.read_link(peer),
            )
            created = link is None or peer_link is None
            if not created:
                assert link is not None and peer_link is not None
                ownership.require_kind(link, "veth", "create a veth")
                ownership.require_kind(peer_link, "veth", "create a veth")
            else:
                for stale in (link, peer_link):
                    if stale is not None:
                        ownership.require_kind(stale, "veth", "create a veth")
                        ownership.require_owned(
                            ctx, stale, "delete", self.get("vif_id")
                        )
                        requests.delete(stale.index)
                # MTU, state and master of this end in the creating
                # request: each request is a round trip and wakes every
                # netlink listener (ovs-vswitchd among them).
                master_index = (
                    None if master is None else _require_link(master).index
                )
                ctx.creating(name, "veth")
                ctx.created[peer] = "veth"
                requests.add(
                    name,
                    "veth",
                    mtu=mtu,
                    up=bool(up),
                    master=master_index,
                    peer=(("IFLA_IFNAME", peer),)
                    + (() if mtu is None else (("IFLA_MTU", mtu),)),
                )
                link = _created(ctx, name)
                peer_link = _require_link(peer)
                if self.get("promisc", False):
                    for index in (link.index, peer_link.index):
                        _set_promiscuous(index)
            alias = _alias(created)
            changed = _set_link(
                ctx,
                requests,
                link,
                role="owned",
                vif_id=self.get("vif_id"),
                mtu=mtu,
                up=up,
                master=master,
                alias=alias,
            )
            changed |= _set_link(
                ctx,
                requests,
                peer_link,
                role="owned",
                vif_id=self.get("vif_id"),
                mtu=mtu,
                up=up,
                alias=alias,
            )
            return created or changed

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare both ends with what is asked."""
        mtu, up = self.get("mtu"), self.get("up", True)
        return _link_problems(
            self.device,
            linkstate.get_device(self.device),
            "veth",
            mtu=mtu,
            up=up,
            master=self.get("master"),
        ) + _link_problems(
            self.get("peer"),
            linkstate.get_device(self.get("peer")),
            "veth",
            mtu=mtu,
            up=up,
        )


@REGISTRY.register
class EnsureVlan(KernelOperation):
    """The 802.1Q device ``name`` for ``vlan`` exists on ``link``.

    An existing VLAN device os_vif does not own (an operator's, or one
    os-vif 5.x made) is used as an uplink: brought up and attached to
    ``master``, its MTU left alone.
    """

    NAME = "ensure_vlan"
    PARAMS = _params(
        _LINK,
        name=validation.interface_name,
        link=validation.interface_name,
        vlan=validation.vlan_id,
        drop=("mac",),
    )
    REQUIRED = frozenset({"name", "link", "vlan"})

    def admit(self, ctx: Context) -> None:
        """An existing device must be a VLAN device for this VLAN."""
        device = linkstate.read_link(self.device)
        if device is None:
            return
        ownership.require_kind(device, "vlan", "create a vlan")
        if device.vlan_id not in (None, self.get("vlan")):
            raise ownership.refuse(
                "use",
                self.device,
                "it is the VLAN device of VLAN %s, not %s"
                % (device.vlan_id, self.get("vlan")),
            )

    def apply(self, ctx: Context) -> bool:
        """Create the VLAN device if missing; set it up."""
        name, vlan = self.device, self.get("vlan")
        with links() as requests:
            device, created = _find_or_create(
                ctx,
                name,
                "vlan",
                lambda: requests.add(
                    name,
                    "vlan",
                    lower=_require_link(self.get("link")).index,
                    data=(("IFLA_VLAN_ID", vlan),),
                ),
            )
            if not created and device.vlan_id not in (None, vlan):
                raise exception.HostOperationFailed(
                    operation="create vlan",
                    device=name,
                    err="exists for VLAN %s, not %s" % (device.vlan_id, vlan),
                )
            owned = (
                created or ownership.owner_rule(ctx, device, None) is not None
            )
            changed = _set_link(
                ctx,
                requests,
                device,
                role="owned" if owned else "uplink",
                vif_id=None,
                mtu=self.get("mtu") if owned else None,
                up=self.get("up", True),
                master=self.get("master"),
                alias=_alias(created),
            )
            return created or changed

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the VLAN device with what is asked."""
        return _link_problems(
            self.device,
            linkstate.get_device(self.device),
            "vlan",
            up=self.get("up", True),
            master=self.get("master"),
        )


@REGISTRY.register
class SetLink(KernelOperation):
    """Set the MTU, MAC, admin state or master of an existing device.

    ``role`` says how the device relates to the VIF (see
    :data:`.ownership.ROLES`): a device os_vif does not own may be changed
    only in what its role allows.  With ``optional`` a device that is not
    there is fine (the VIF's device a hypervisor makes later).
    """

    NAME = "set_link"
    PARAMS = _params(
        _LINK,
        _OWNER,
        name=validation.interface_name,
        nomaster=validation.boolean,
        role=validation.role(ownership.ROLES),
        optional=validation.boolean,
    )

    def admit(self, ctx: Context) -> None:
        """Refuse changes the device's role does not allow."""
        link = linkstate.read_link(self.device)
        if link is None:
            return
        role = self.get("role", "owned")
        if ownership.owner_rule(ctx, link, self.get("vif_id")) is not None:
            return
        if role == "owned":
            ownership.require_owned(ctx, link, "change", self.get("vif_id"))
        if role == "bridge":
            ownership.require_kind(link, "bridge", "set up a bridge")
        asked = {
            key
            for key in ("mtu", "mac", "up", "master", "nomaster")
            if self.get(key) not in (None, False)
        }
        allowed = ownership.ROLE_FIELDS[role]
        extra = sorted(asked - allowed)
        if extra:
            raise ownership.refuse(
                "set %s of" % ", ".join(extra),
                self.device,
                "os_vif does not own it, and as %s it may only have its %s "
                "set" % (role, ", ".join(sorted(allowed))),
            )

    def apply(self, ctx: Context) -> bool:
        """Change what differs, in one request."""
        link = linkstate.read_link(self.device)
        if link is None and self.get("optional", False):
            return False
        with links() as requests:
            return _set_link(
                ctx,
                requests,
                link or _require_link(self.device),
                role=self.get("role", "owned"),
                vif_id=self.get("vif_id"),
                mtu=self.get("mtu"),
                mac=self.get("mac"),
                up=self.get("up"),
                master=self.get("master"),
                nomaster=self.get("nomaster", False),
            )

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the device with what is asked."""
        device = linkstate.get_device(self.device)
        if device is None and self.get("optional", False):
            return []
        problems = _link_problems(
            self.device,
            device,
            None,
            mtu=self.get("mtu"),
            mac=self.get("mac"),
            up=self.get("up"),
            master=self.get("master"),
        )
        if device is not None and self.get("nomaster") and device.master:
            problems.append(
                Problem(
                    "device %s" % self.device, "master", None, device.master
                )
            )
        return problems


def _sysctl_family(value: Any, field: str) -> str:
    return str(validation.one_of(value, ("ipv4", "ipv6"), field))


_SYSCTL_KEYS = tuple(sorted({key for _family, key in SYSCTLS}))


def _sysctl_key(value: Any, field: str) -> str:
    return str(validation.one_of(value, _SYSCTL_KEYS, field))


def _sysctl_value(value: Any, field: str) -> int:
    return validation.integer_in_range(value, 0, 8, field)


@REGISTRY.register
class SetSysctl(KernelOperation):
    """Set ``net.<family>.conf.<name>.<key>`` (see :data:`SYSCTLS`)."""

    NAME = "set_sysctl"
    PARAMS = _params(
        _OWNER,
        name=validation.interface_name,
        family=_sysctl_family,
        key=_sysctl_key,
        value=_sysctl_value,
        role=validation.role(("owned", "bridge")),
    )
    REQUIRED = frozenset({"name", "family", "key", "value"})

    def __init__(self, /, **arguments: Any) -> None:
        """Validate; the value must be allowed for that sysctl."""
        super().__init__(**arguments)
        allowed = SYSCTLS.get((self.get("family"), self.get("key")))
        if allowed is None or self.get("value") not in allowed:
            raise exception.InvalidArgument(
                field="set_sysctl.value",
                value=self.get("value"),
                reason="net.%s.conf.*.%s may not be set to that"
                % (self.get("family"), self.get("key")),
            )

    def admit(self, ctx: Context) -> None:
        """The device must be os_vif's, or a network's bridge."""
        link = linkstate.read_link(self.device)
        if link is None:
            return
        if self.get("role", "owned") == "bridge":
            ownership.require_kind(link, "bridge", "set up a bridge")
            return
        ownership.require_owned(ctx, link, "change", self.get("vif_id"))

    def apply(self, ctx: Context) -> bool:
        """Write the sysctl if it differs."""
        _require_link(self.device)
        return _write_sysctl(
            ctx,
            self.device,
            self.get("family"),
            self.get("key"),
            self.get("value"),
            self.get("role", "owned"),
            self.get("vif_id"),
        )

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the sysctl with what is asked."""
        found = linkstate.read_sysctl(
            self.device, self.get("family"), self.get("key")
        )
        if found == self.get("value"):
            return []
        return [
            Problem(
                "device %s" % self.device,
                "%s.%s" % (self.get("family"), self.get("key")),
                self.get("value"),
                found,
            )
        ]


def disable_ipv6(name: str, **owner: Any) -> SetSysctl:
    """Turn IPv6 off on ``name`` (``net.ipv6.conf.<name>.disable_ipv6``)."""
    return SetSysctl(
        name=name, family="ipv6", key="disable_ipv6", value=1, **owner
    )


@REGISTRY.register
class DeleteDevice(KernelOperation):
    """Delete ``name`` if os_vif owns it; absent is fine.

    With ``kind``, the device must be of that kind.  Not undone: plans
    delete last.
    """

    NAME = "delete_device"
    PARAMS = _params(
        _OWNER,
        name=validation.interface_name,
        kind=validation.role(("bridge", "tun", "veth", "vlan")),
    )

    def admit(self, ctx: Context) -> None:
        """The device, if there, must be os_vif's (and of ``kind``)."""
        link = linkstate.read_link(self.device)
        if link is None:
            return
        kind = self.get("kind")
        if kind is not None:
            ownership.require_kind(link, kind, "delete a %s" % kind)
        ownership.require_owned(ctx, link, "delete", self.get("vif_id"))

    def apply(self, ctx: Context) -> bool:
        """Delete the device if it is there."""
        link = linkstate.read_link(self.device)
        if link is None:
            return False
        kind = self.get("kind")
        if kind is not None and link.kind != kind:
            # An undo must not delete what took the name meanwhile.
            return False
        if ctx.delete_later(link.index):
            return True
        with links() as requests:
            requests.delete(link.index)
        return True

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """The device should be absent."""
        device = linkstate.get_device(self.device)
        if device is None:
            return []
        return [Problem("device %s" % self.device, "exists", False, True)]


@REGISTRY.register
class RemoveBridgeIfUnused(KernelOperation):
    """Delete bridge ``name`` if os_vif made it and nothing uses it.

    "Nothing uses it": its only ports are among ``uplinks`` (the physical
    or VLAN interface that connects it to the network).  The uplinks that
    os_vif created (VLAN devices) are deleted with it; the others are just
    released by the bridge's deletion.  A bridge os_vif did not make, or
    one something else is on, is left as it is.
    """

    NAME = "remove_bridge_if_unused"
    PARAMS = _params(
        _OWNER,
        name=validation.interface_name,
        uplinks=validation.interface_names,
    )

    def apply(self, ctx: Context) -> bool:
        """Delete the bridge (and the uplinks os_vif made) if unused."""
        link = linkstate.read_link(self.device)
        if link is None or link.kind != "bridge":
            return False
        if ownership.owner_rule(ctx, link, self.get("vif_id")) is None:
            return False
        # Ports this call deletes already (batched, later) are gone.
        ports = [
            port
            for port in linkstate.ports_of(link.index)
            if not ctx.is_leaving(port.index)
        ]
        if {port.name for port in ports} - set(self.get("uplinks", ())):
            return False
        doomed = [link.index] + [
            port.index
            for port in ports
            if port.alias == ownership.OS_VIF_ALIAS
        ]
        if all([ctx.delete_later(index) for index in doomed]):
            return True
        with links() as requests:
            for index in doomed:
                requests.delete(index)
            return True

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """An os_vif bridge with nothing but its uplinks should be gone."""
        device = linkstate.get_device(self.device)
        if (
            device is None
            or device.kind != "bridge"
            or not device.made_by_os_vif
        ):
            return []
        ports = set(linkstate.bridge_ports(self.device))
        if ports - set(self.get("uplinks", ())):
            return []
        return [Problem("device %s" % self.device, "exists", False, True)]


def _vf_index(value: Any, field: str) -> int:
    return validation.integer_in_range(value, 0, 65535, field)


def _optional_vlan(value: Any, field: str) -> int | None:
    return None if value is None else validation.vlan_id(value, field)


_VF_LINK_STATES = {"auto": 0, "enable": 1, "disable": 2}
_VF_LINK_STATE_NAMES = {
    number: name for name, number in _VF_LINK_STATES.items()
}
# IFLA_EXT_MASK flag asking the kernel to include the VF list.
_RTEXT_FILTER_VF = 1
# A driver that cannot report a VF setting reports all bits set.
_VF_UNKNOWN = 0xFFFFFFFF
_VF_ATTRS = (
    ("spoofchk", "IFLA_VF_SPOOFCHK"),
    ("trust", "IFLA_VF_TRUST"),
    ("link_state", "IFLA_VF_LINK_STATE"),
)


def _vf_settings(ipr: IPRoute, index: int, vf: int) -> dict[str, Any] | None:
    """Return VF ``vf``'s settings as netlink spec keys, or None."""
    link = ipr.link("get", index=index, ext_mask=_RTEXT_FILTER_VF)[0]
    vf_list = link.get_attr("IFLA_VFINFO_LIST")
    if vf_list is None:
        return None
    for info in vf_list.get_attrs("IFLA_VF_INFO"):
        mac = info.get_attr("IFLA_VF_MAC")
        if mac is None or mac.get("vf") != vf:
            continue
        settings: dict[str, Any] = {"mac": mac.get("mac")}
        vlan = info.get_attr("IFLA_VF_VLAN")
        if vlan is not None:
            settings["vlan"] = vlan.get("vlan")
        for key, attr in _VF_ATTRS:
            value = info.get_attr(attr)
            if value is not None and value.get(key) != _VF_UNKNOWN:
                settings[key] = value.get(key)
        return settings
    return None


def read_vf_settings(pf: str, vf: int) -> dict[str, Any] | None:
    """VF ``vf`` of PF ``pf``'s settings, unprivileged (None: unknown)."""
    link = linkstate.read_link(pf)
    if link is None:
        return None
    with netlink() as ipr:
        return _vf_settings(ipr, link.index, vf)


@REGISTRY.register
class SetVf(KernelOperation):
    """Configure VF ``vf`` of the PF ``name`` (``ip link set PF vf N``).

    The VF is the VIF's own device, so no ownership applies.  The VF's
    current settings are read first: only those that differ are sent, and
    the undo sends the old values back.  A PF that reports no settings for
    the VF gets the whole request and no undo, so plans configure the VF
    last.
    """

    NAME = "set_vf"
    PARAMS = {
        "name": validation.interface_name,
        "vf": _vf_index,
        "mac": validation.optional_mac_address,
        "vlan": _optional_vlan,
        "spoofchk": validation.optional_boolean,
        "trust": validation.optional_boolean,
        "link_state": validation.role(tuple(_VF_LINK_STATES)),
    }
    REQUIRED = frozenset({"name", "vf"})

    def _spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"vf": self.get("vf")}
        for key in ("mac", "vlan"):
            if self.get(key) is not None:
                spec[key] = self.get(key)
        for key in ("spoofchk", "trust"):
            if self.get(key) is not None:
                spec[key] = int(self.get(key))
        if self.get("link_state") is not None:
            spec["link_state"] = _VF_LINK_STATES[self.get("link_state")]
        return spec

    def apply(self, ctx: Context) -> bool:
        """Send the settings that differ."""
        spec = self._spec()
        if len(spec) == 1:
            return False
        vf = self.get("vf")
        with netlink() as ipr:
            index = _require_link(self.device).index
            current = _vf_settings(ipr, index, vf)
            if current is not None:
                spec = {
                    key: value
                    for key, value in spec.items()
                    if key == "vf" or current.get(key) != value
                }
                if len(spec) == 1:
                    return False
                previous: dict[str, Any] = {}
                for key in spec:
                    if key == "vf" or key not in current:
                        continue
                    value = current[key]
                    if key in ("spoofchk", "trust"):
                        value = bool(value)
                    elif key == "link_state":
                        value = _VF_LINK_STATE_NAMES.get(value)
                    previous[key] = value
                if previous:
                    ctx.record_undo(SetVf(name=self.device, vf=vf, **previous))
            ipr.link("set", index=index, vf=dict(spec))
        return True

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Each VF setting that differs, read from the PF's VF list.

        Reading a link's VF list needs no privilege; a PF that reports
        none (some drivers, a device without SR-IOV) gets one problem,
        ``settings`` found ``None``: whether the VF is as asked is not
        known, and a plug sends the request (the daemon sends only what
        differs).
        """
        spec = self._spec()
        if len(spec) == 1:
            return []
        vf = spec.pop("vf")
        what = "vf %s/%s" % (self.device, vf)
        if linkstate.read_link(self.device) is None:
            return [Problem("device %s" % self.device, "exists", True, False)]
        current = read_vf_settings(self.device, vf)
        if current is None:
            return [Problem(what, "settings", spec, None)]
        return [
            Problem(what, key, value, current.get(key))
            for key, value in spec.items()
            if current.get(key) != value
        ]
