"""Network devices and their sysctls, through netlink (pyroute2) and /proc.

This module holds the implementation of the device operations that run
inside the privileged daemon (registered with
:func:`os_vif.internal.operations.operation`), and the read-only lookups
that need no privilege and run in the caller's process.

Privileged operations (run through a plan, see
:mod:`os_vif.internal.host_ops` for the client side):

``ensure_bridge``      bridge, STP off and forward delay 0 when created,
                       optional MTU, MAC, admin state, IPv6 off
``ensure_tap``         persistent tap (optionally multiqueue), MTU, MAC,
                       state, master
``ensure_veth``        veth pair, MTU and state of both ends
``ensure_macvlan``     macvlan or macvtap on a lower device
``ensure_vlan``        802.1Q VLAN device on a lower device
``set_link``           MTU, MAC, admin state, master (or no master)
``set_sysctl``         a per-device sysctl from a short allow list
                       (``disable_ipv6``, ``arp_ignore``, ...)
``delete_device``      delete a device; absent is not an error
``remove_bridge_if_unused``  delete a bridge os_vif made once only its
                       uplinks remain, and the uplinks os_vif made
``move_to_netns``      move a device into a network namespace
``set_vf``             MAC, VLAN, spoof check, trust, link state of an
                       SR-IOV VF, set on its PF

Every ``ensure_*`` operation is idempotent: a device that exists with the
requested attributes is left untouched, and only differing attributes are
changed, in a single netlink request.  Devices os_vif creates carry the
interface alias :data:`OS_VIF_ALIAS`, so that unplug removes only what
os_vif made.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifinfmsg import tuntap as _tuntap

from os_vif import exception
from os_vif.internal import linkstate, validation
from os_vif.internal.operations import Transaction, Validator, operation

__all__ = [
    "OS_VIF_ALIAS",
    "SYSCTLS",
    "DeviceInfo",
    "netlink",
    "close_sockets",
    "get_device",
    "device_exists",
    "bridge_ports",
    "read_sysctl",
]

#: The interface alias (``ip link show`` prints it) of devices os_vif made.
OS_VIF_ALIAS = linkstate.OS_VIF_ALIAS
DeviceInfo = linkstate.DeviceInfo
get_device = linkstate.get_device
device_exists = linkstate.device_exists

#: Per-device sysctls a plan may set: (family, key) -> allowed values.
SYSCTLS: dict[tuple[str, str], tuple[int, ...]] = {
    ("ipv6", "disable_ipv6"): (0, 1),
    ("ipv4", "arp_ignore"): tuple(range(9)),
    ("ipv4", "arp_announce"): (0, 1, 2),
    ("ipv4", "arp_filter"): (0, 1),
}

_IFF_UP = 0x1
_IFF_TAP = 0x0002
_IFF_MULTI_QUEUE = 0x0100
_IFF_NO_PI = 0x1000
_TUN_DEVICE = "/dev/net/tun"

_MACVLAN_MODES = ("private", "vepa", "bridge", "passthru", "source")


# One netlink socket per network namespace, per process.  Opening one costs
# more than a whole request, and a plan makes several requests.  The key is
# the namespace's inode: a thread that entered another namespace (the test
# fixtures do) gets a socket there.
_SOCKETS: dict[int, IPRoute] = {}
_SOCKET_LOCK = threading.RLock()


def _current_netns() -> int:
    return os.stat("/proc/thread-self/ns/net").st_ino


@contextlib.contextmanager
def netlink() -> Iterator[IPRoute]:
    """Yield this process's rtnetlink socket for the current namespace.

    The socket is shared; it is held exclusively while the block runs.
    """
    with _SOCKET_LOCK:
        key = _current_netns()
        ipr = _SOCKETS.get(key)
        if ipr is None:
            ipr = _SOCKETS[key] = IPRoute()
        yield ipr


def close_sockets() -> None:
    """Close every cached netlink socket (a closed socket keeps no netns)."""
    with _SOCKET_LOCK:
        while _SOCKETS:
            _key, ipr = _SOCKETS.popitem()
            with contextlib.suppress(Exception):
                ipr.close()


def bridge_ports(name: str) -> list[str]:
    """Return the names of the devices attached to the bridge ``name``."""
    validation.interface_name(name)
    with netlink() as ipr:
        return _port_names(ipr, name)


def _port_names(ipr: IPRoute, bridge: str) -> list[str]:
    link = linkstate.read_link(bridge)
    if link is None:
        return []
    return sorted(
        port.get("ifname")
        for port in ipr.link("dump", master=link.index)
        if port.get("master") == link.index
    )


def _sysctl_path(name: str, family: str, key: str) -> str:
    # The name was validated: no '/', not '.' or '..', so the path cannot
    # leave the device's own directory.
    return "/proc/sys/net/%s/conf/%s/%s" % (family, name, key)


def read_sysctl(name: str, family: str, key: str) -> int | None:
    """Return a per-device sysctl, or None if the device or key is absent."""
    validation.interface_name(name)
    try:
        with open(_sysctl_path(name, family, key)) as handle:
            return int(handle.read().strip())
    except FileNotFoundError:
        return None


# --- privileged side -------------------------------------------------------


def _require_link(name: str) -> linkstate.Link:
    link = linkstate.read_link(name)
    if link is None:
        raise exception.NetworkInterfaceNotFound(interface=name)
    return link


def _write_sysctl(
    tx: Transaction, name: str, family: str, key: str, value: int
) -> bool:
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
    with open(path, "w") as handle:
        handle.write(str(value))

    def restore() -> None:
        with contextlib.suppress(FileNotFoundError), open(path, "w") as out:
            out.write(old)

    tx.on_undo("set %s" % path, restore)
    return True


def _set_link(
    tx: Transaction,
    ipr: IPRoute,
    link: linkstate.Link,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = None,
    master: str | None = None,
    nomaster: bool = False,
    alias: str | None = None,
) -> bool:
    """Bring ``link`` to the given attributes in at most one request.

    ``alias`` is only for devices this plan created (their undo deletes
    them, so the alias needs none).
    """
    changes: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    if alias is not None and link.alias != alias:
        changes["ifalias"] = alias
    if mtu is not None and link.mtu != mtu:
        changes["mtu"], previous["mtu"] = mtu, link.mtu
    if mac is not None and link.mac != mac:
        changes["address"], previous["address"] = mac, link.mac
    if up is not None and link.up != up:
        changes["state"] = "up" if up else "down"
        previous["state"] = "up" if link.up else "down"
    current_master = link.master_index
    if master is not None:
        wanted = _require_link(master).index
        if current_master != wanted:
            changes["master"], previous["master"] = wanted, current_master
    elif nomaster and current_master:
        changes["master"], previous["master"] = 0, current_master
    if not changes:
        return False
    index = link.index
    ipr.link("set", index=index, **changes)

    def restore() -> None:
        ipr.link("set", index=index, **previous)

    if previous:
        tx.on_undo(
            "set %s on %s" % (sorted(previous), link.name), restore
        )
    return True


def _delete_index(ipr: IPRoute, index: int) -> None:
    try:
        ipr.link("del", index=index)
    except NetlinkError as err:
        if err.code != errno.ENODEV:
            raise


def _created(tx: Transaction, ipr: IPRoute, name: str) -> linkstate.Link:
    """Record that ``name`` was just made: undo = delete it."""
    link = _require_link(name)
    index = link.index
    tx.on_undo("create %s" % name, lambda: _delete_index(ipr, index))
    # The kernel ignores an alias in the creating request: the caller's
    # _set_link(..., alias=OS_VIF_ALIAS) marks the device in the request
    # that sets its other attributes (each request costs about a
    # millisecond in pyroute2).
    return link


def _check_kind(link: linkstate.Link, kinds: tuple[str, ...]) -> None:
    kind = link.kind
    if kind not in kinds:
        raise exception.HostOperationFailed(
            operation="create %s" % kinds[0],
            device=link.name,
            err="a device of kind %s already has this name" % (kind or "hw"),
        )


def _find_or_create(
    tx: Transaction,
    ipr: IPRoute,
    name: str,
    kind: str,
    create: Callable[[], Any],
) -> tuple[linkstate.Link, bool]:
    """Return the device ``name`` and whether this call created it.

    An existing device must be of ``kind``; a missing one is made by
    ``create()`` and deleted again if the plan fails.
    """
    link = linkstate.read_link(name)
    if link is not None:
        _check_kind(link, (kind,))
        return link, False
    create()
    return _created(tx, ipr, name), True


def _alias(created: bool) -> str | None:
    # Only devices os_vif made carry the mark; an existing device's alias
    # is its owner's.
    return OS_VIF_ALIAS if created else None


_LINK_PARAMS: dict[str, Validator] = {
    "mtu": validation.optional_mtu,
    "mac": validation.optional_mac_address,
    "up": validation.optional_boolean,
    "master": validation.optional_interface_name,
}


@operation(
    "ensure_bridge",
    {
        "name": validation.interface_name,
        "mtu": validation.optional_mtu,
        "mac": validation.optional_mac_address,
        "up": validation.optional_boolean,
        "disable_ipv6": validation.boolean,
    },
)
def ensure_bridge(
    tx: Transaction,
    name: str,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = True,
    disable_ipv6: bool = False,
) -> bool:
    """Make the bridge ``name`` exist with these attributes.

    A new bridge has STP off and forward delay 0, so that a guest's port
    forwards at once.  An existing bridge keeps its STP settings: it may be
    the operator's, with loops to prevent.
    """
    with netlink() as ipr:
        link, created = _find_or_create(
            tx,
            ipr,
            name,
            "bridge",
            lambda: ipr.link(
                "add",
                ifname=name,
                kind="bridge",
                br_stp_state=0,
                br_forward_delay=0,
                **({} if mtu is None else {"mtu": mtu}),
            ),
        )
        # IPv6 off before the bridge comes up: no link-local address and
        # no router solicitation ever leave it.
        changed = disable_ipv6 and _write_sysctl(
            tx, name, "ipv6", "disable_ipv6", 1
        )
        changed |= _set_link(
            tx, ipr, link, mtu=mtu, mac=mac, up=up, alias=_alias(created)
        )
        return created or changed


def _tap_ioctl(name: str, multiqueue: bool) -> None:
    flags = _IFF_TAP | _IFF_NO_PI | (_IFF_MULTI_QUEUE if multiqueue else 0)
    request = struct.pack("16sH", name.encode(), flags)
    fd = os.open(_TUN_DEVICE, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, _tuntap.TUNSETIFF, request)
        # Persistent: the device outlives this file descriptor, until a
        # hypervisor opens it or os_vif deletes it.
        fcntl.ioctl(fd, _tuntap.TUNSETPERSIST, 1)
    finally:
        os.close(fd)



@operation(
    "ensure_tap",
    dict(
        _LINK_PARAMS,
        name=validation.interface_name,
        multiqueue=validation.boolean,
    ),
)
def ensure_tap(
    tx: Transaction,
    name: str,
    multiqueue: bool = False,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = True,
    master: str | None = None,
) -> bool:
    """Make the persistent tap ``name`` exist, attached to ``master``."""
    with netlink() as ipr:
        link, created = _find_or_create(
            tx, ipr, name, "tun", lambda: _tap_ioctl(name, multiqueue)
        )
        changed = _set_link(
            tx,
            ipr,
            link,
            mtu=mtu,
            mac=mac,
            up=up,
            master=master,
            alias=_alias(created),
        )
        return created or changed


@operation(
    "ensure_veth",
    {
        "name": validation.interface_name,
        "peer": validation.interface_name,
        "mtu": validation.optional_mtu,
        "up": validation.optional_boolean,
        "master": validation.optional_interface_name,
    },
    required=("name", "peer"),
)
def ensure_veth(
    tx: Transaction,
    name: str,
    peer: str,
    mtu: int | None = None,
    up: bool | None = True,
    master: str | None = None,
) -> bool:
    """Make the veth pair ``name``/``peer`` exist, both ends alike.

    ``master`` is the bridge the ``name`` end joins (the peer stays free
    for the caller to attach elsewhere).  If only one end exists it is a
    leftover of an interrupted plug: it is deleted and the pair made again.
    """
    if name == peer:
        raise exception.InvalidArgument(
            field="ensure_veth.peer", value=peer, reason="equals name"
        )
    if master is not None and master in (name, peer):
        raise exception.InvalidArgument(
            field="ensure_veth.master", value=master, reason="is a veth end"
        )
    with netlink() as ipr:
        link, peer_link = linkstate.read_link(name), linkstate.read_link(peer)
        created = link is None or peer_link is None
        if not created:
            assert link is not None and peer_link is not None
            _check_kind(link, ("veth",))
            _check_kind(peer_link, ("veth",))
        else:
            for stale in (link, peer_link):
                if stale is not None:
                    _check_kind(stale, ("veth",))
                    _delete_index(ipr, stale.index)
            # MTU, state and master of this end in the creating request:
            # each request is a round trip and wakes every netlink listener
            # (ovs-vswitchd among them), and the pair never has the wrong
            # MTU.
            size = {} if mtu is None else {"mtu": mtu}
            extra: dict[str, Any] = dict(size)
            if up:
                extra["state"] = "up"
            if master is not None:
                extra["master"] = _require_link(master).index
            ipr.link(
                "add",
                ifname=name,
                kind="veth",
                peer={"ifname": peer, **size},
                **extra,
            )
            link = _created(tx, ipr, name)
            peer_link = _require_link(peer)
        alias = _alias(created)
        changed = _set_link(
            tx, ipr, link, mtu=mtu, up=up, master=master, alias=alias
        )
        changed |= _set_link(tx, ipr, peer_link, mtu=mtu, up=up, alias=alias)
        return created or changed


def _macvlan_mode(value: Any, field: str) -> str:
    return str(validation.one_of(value, _MACVLAN_MODES, field))


@operation(
    "ensure_macvlan",
    {
        "name": validation.interface_name,
        "link": validation.interface_name,
        "mode": _macvlan_mode,
        "macvtap": validation.boolean,
        "mtu": validation.optional_mtu,
        "mac": validation.optional_mac_address,
        "up": validation.optional_boolean,
    },
    required=("name", "link"),
)
def ensure_macvlan(
    tx: Transaction,
    name: str,
    link: str,
    mode: str = "bridge",
    macvtap: bool = False,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = True,
) -> bool:
    """Make a macvlan (or macvtap) ``name`` on the lower device ``link``."""
    kind = "macvtap" if macvtap else "macvlan"
    with netlink() as ipr:
        device, created = _find_or_create(
            tx,
            ipr,
            name,
            kind,
            lambda: ipr.link(
                "add",
                ifname=name,
                kind=kind,
                link=_require_link(link).index,
                **{kind + "_mode": mode},
            ),
        )
        changed = _set_link(
            tx, ipr, device, mtu=mtu, mac=mac, up=up, alias=_alias(created)
        )
        return created or changed


@operation(
    "ensure_vlan",
    {
        "name": validation.interface_name,
        "link": validation.interface_name,
        "vlan": validation.vlan_id,
        "mtu": validation.optional_mtu,
        "up": validation.optional_boolean,
        "master": validation.optional_interface_name,
    },
    required=("name", "link", "vlan"),
)
def ensure_vlan(
    tx: Transaction,
    name: str,
    link: str,
    vlan: int,
    mtu: int | None = None,
    up: bool | None = True,
    master: str | None = None,
) -> bool:
    """Make the 802.1Q device ``name`` for ``vlan`` on ``link``."""
    with netlink() as ipr:
        device, created = _find_or_create(
            tx,
            ipr,
            name,
            "vlan",
            lambda: ipr.link(
                "add",
                ifname=name,
                kind="vlan",
                link=_require_link(link).index,
                vlan_id=vlan,
            ),
        )
        if not created and device.vlan_id not in (None, vlan):
            raise exception.HostOperationFailed(
                operation="create vlan",
                device=name,
                err="exists for VLAN %s, not %s" % (device.vlan_id, vlan),
            )
        changed = _set_link(
            tx,
            ipr,
            device,
            mtu=mtu,
            up=up,
            master=master,
            alias=_alias(created),
        )
        return created or changed


@operation(
    "set_link",
    dict(
        _LINK_PARAMS,
        name=validation.interface_name,
        nomaster=validation.boolean,
    ),
)
def set_link(
    tx: Transaction,
    name: str,
    mtu: int | None = None,
    mac: str | None = None,
    up: bool | None = None,
    master: str | None = None,
    nomaster: bool = False,
) -> bool:
    """Set the MTU, MAC, admin state or master of an existing device."""
    with netlink() as ipr:
        link = _require_link(name)
        return _set_link(
            tx,
            ipr,
            link,
            mtu=mtu,
            mac=mac,
            up=up,
            master=master,
            nomaster=nomaster,
        )


def _sysctl_family(value: Any, field: str) -> str:
    return str(validation.one_of(value, ("ipv4", "ipv6"), field))


def _sysctl_key(value: Any, field: str) -> str:
    keys = tuple(sorted({key for _family, key in SYSCTLS}))
    return str(validation.one_of(value, keys, field))


def _sysctl_value(value: Any, field: str) -> int:
    return validation.integer_in_range(value, 0, 8, field)


@operation(
    "set_sysctl",
    {
        "name": validation.interface_name,
        "family": _sysctl_family,
        "key": _sysctl_key,
        "value": _sysctl_value,
    },
    required=("name", "family", "key", "value"),
)
def set_sysctl(
    tx: Transaction, name: str, family: str, key: str, value: int
) -> bool:
    """Write ``/proc/sys/net/<family>/conf/<name>/<key>`` (allow-listed)."""
    allowed = SYSCTLS.get((family, key))
    if allowed is None or value not in allowed:
        raise exception.InvalidArgument(
            field="set_sysctl.value",
            value=value,
            reason="net.%s.conf.*.%s may not be set to that" % (family, key),
        )
    _require_link(name)
    return _write_sysctl(tx, name, family, key, value)


@operation("delete_device", {"name": validation.interface_name})
def delete_device(tx: Transaction, name: str) -> bool:
    """Delete the device ``name``; a missing device is not an error.

    Deletion cannot be undone, so plans delete last.
    """
    with netlink() as ipr:
        link = linkstate.read_link(name)
        if link is None:
            return False
        _delete_index(ipr, link.index)
        return True


@operation(
    "remove_bridge_if_unused",
    {
        "name": validation.interface_name,
        "uplinks": validation.interface_names,
    },
)
def remove_bridge_if_unused(
    tx: Transaction, name: str, uplinks: list[str] | tuple[str, ...] = ()
) -> bool:
    """Delete the bridge ``name`` if os_vif made it and nothing uses it.

    "Nothing uses it": its only ports are among ``uplinks`` (the physical
    or VLAN interface that connects it to the network).  The uplinks that
    os_vif created (VLAN devices) are deleted with it; the others are just
    released by the bridge's deletion.
    """
    with netlink() as ipr:
        link = linkstate.read_link(name)
        if link is None or link.alias != OS_VIF_ALIAS:
            return False
        if link.kind != "bridge":
            return False
        ports = _port_names(ipr, name)
        if set(ports) - set(uplinks):
            return False
        _delete_index(ipr, link.index)
        for port in ports:
            device = linkstate.read_link(port)
            if device is not None and device.alias == OS_VIF_ALIAS:
                _delete_index(ipr, device.index)
        return True


def _netns_path(netns: str) -> str:
    return netns if netns.startswith("/") else "/run/netns/" + netns


@operation(
    "move_to_netns",
    {
        "name": validation.interface_name,
        "netns": validation.netns_reference,
    },
    required=("name", "netns"),
)
def move_to_netns(tx: Transaction, name: str, netns: str) -> bool:
    """Move ``name`` into the namespace ``netns``.

    A device that is not here (already moved) is left alone.  The move is
    not undone if a later step fails: the device is no longer visible from
    here; plans move last.
    """
    with netlink() as ipr:
        link = linkstate.read_link(name)
        if link is None:
            return False
        fd = os.open(_netns_path(netns), os.O_RDONLY | os.O_CLOEXEC)
        try:
            ipr.link("set", index=link.index, net_ns_fd=fd)
        finally:
            os.close(fd)
        return True


def _vf_index(value: Any, field: str) -> int:
    return validation.integer_in_range(value, 0, 65535, field)


def _link_state(value: Any, field: str) -> str | None:
    if value is None:
        return None
    return str(validation.one_of(value, ("auto", "enable", "disable"), field))


def _optional_vlan(value: Any, field: str) -> int | None:
    return None if value is None else validation.vlan_id(value, field)


_VF_LINK_STATES = {"auto": 0, "enable": 1, "disable": 2}


@operation(
    "set_vf",
    {
        "name": validation.interface_name,
        "vf": _vf_index,
        "mac": validation.optional_mac_address,
        "vlan": _optional_vlan,
        "spoofchk": validation.optional_boolean,
        "trust": validation.optional_boolean,
        "link_state": _link_state,
    },
    required=("name", "vf"),
)
def set_vf(
    tx: Transaction,
    name: str,
    vf: int,
    mac: str | None = None,
    vlan: int | None = None,
    spoofchk: bool | None = None,
    trust: bool | None = None,
    link_state: str | None = None,
) -> bool:
    """Configure the VF number ``vf`` of the physical function ``name``.

    The VF's current settings are read first (``RTEXT_FILTER_VF``): only
    those that differ are sent, and a rollback sends the old values back.
    A PF that reports no settings for the VF gets the whole request and no
    undo, so plans still configure the VF last.
    """
    spec: dict[str, Any] = {"vf": vf}
    if mac is not None:
        spec["mac"] = mac
    if vlan is not None:
        spec["vlan"] = vlan
    if spoofchk is not None:
        spec["spoofchk"] = int(spoofchk)
    if trust is not None:
        spec["trust"] = int(trust)
    if link_state is not None:
        spec["link_state"] = _VF_LINK_STATES[link_state]
    if len(spec) == 1:
        return False
    with netlink() as ipr:
        link = _require_link(name)
        index = link.index
        current = _vf_settings(ipr, index, vf)
        if current is not None:
            spec = {
                key: value
                for key, value in spec.items()
                if key == "vf" or current.get(key) != value
            }
            if len(spec) == 1:
                return False
        ipr.link("set", index=index, vf=dict(spec))
        if current is not None:
            previous = {"vf": vf}
            previous.update(
                (key, current[key]) for key in spec if key in current
            )
            if len(previous) > 1:
                tx.on_undo(
                    "set vf %d on %s" % (vf, name),
                    lambda: ipr.link("set", index=index, vf=dict(previous)),
                )
    return True


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
    """Return VF ``vf``'s settings as :func:`set_vf` spec keys, or None."""
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
