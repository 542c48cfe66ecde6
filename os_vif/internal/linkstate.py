"""Fast, unprivileged reads of one network device's state.

Deciding that a re-plug has nothing to do means reading a few devices; the
general netlink client (pyroute2) spends about a millisecond per request
in its asynchronous machinery, more than the whole decision should cost.
This module sends the one request needed -- ``RTM_GETLINK`` for a name or
an index -- on a plain rtnetlink socket and decodes only the attributes it
needs, in tens of microseconds.  It never changes anything: writes go
through the privsep daemon (:mod:`os_vif.internal.privileged`).

Sockets belong to the network namespace they were opened in; the socket
is kept for the calling thread's namespace and replaced when a thread asks
from another one (tests move threads between namespaces).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import errno
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from os_vif.internal import rtnl, socket_cache, validation

__all__ = [
    "OS_VIF_ALIAS",
    "DeviceInfo",
    "Link",
    "read_link",
    "master_name",
    "decode_link",
    "get_device",
    "device_exists",
    "ports_of",
    "bridge_ports",
    "read_sysctl",
    "close_sockets",
    "live",
]

#: The interface alias (``ip link show`` prints it) of devices os_vif made.
OS_VIF_ALIAS = "os-vif"


@dataclasses.dataclass(frozen=True)
class Link:
    """One device as a single netlink answer gives it (no name lookups).

    What both sides compare with what an operation wants
    (:func:`os_vif.internal.kernel.link.differences`): the master is its
    index, as netlink sets it (:func:`master_name` resolves it).
    """

    name: str
    index: int
    #: The link kind (``bridge``, ``tun``, ``veth``...), None for hardware.
    kind: str | None
    mtu: int
    mac: str | None
    #: Administratively up (IFF_UP).
    up: bool
    #: Index of the master device, 0 when it has none.
    master_index: int
    #: The interface alias; :data:`OS_VIF_ALIAS` if os_vif made the device.
    alias: str | None
    #: The 802.1Q id of a ``vlan`` device, else None.
    vlan_id: int | None

    @property
    def made_by_os_vif(self) -> bool:
        """Tell whether os_vif created this device (it carries the mark)."""
        return self.alias == OS_VIF_ALIAS


@dataclasses.dataclass(frozen=True)
class DeviceInfo(Link):
    """A :class:`Link` with its master's name (:func:`get_device`)."""

    #: Name of the master device (the bridge it is attached to), if any.
    master: str | None


_DUMP_ATTEMPTS = 5
# Leave the counters out of the answer: they are most of its size.
_SKIP_STATS = rtnl.attr(
    rtnl.IFLA_EXT_MASK, rtnl.U32.pack(rtnl.RTEXT_FILTER_SKIP_STATS)
)
# Where a link message's ifinfomsg and its attributes start.
_IFINFOMSG_AT = rtnl.NLMSGHDR.size
_LINK_ATTRS_AT = rtnl.NLMSGHDR.size + rtnl.IFINFOMSG.size

_LOCK = threading.Lock()
# Only the namespace in use keeps a socket (see socket_cache).
_SOCKETS: socket_cache.SocketCache[socket.socket] = socket_cache.SocketCache(
    _LOCK, lambda sock: sock.close(), only_current=True
)
_SEQ = [0]


def _string(value: bytes | None) -> str | None:
    if value is None:
        return None
    return value.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _open_socket() -> socket.socket:
    sock = socket.socket(
        socket.AF_NETLINK,
        socket.SOCK_RAW | socket.SOCK_CLOEXEC,
        socket.NETLINK_ROUTE,
    )
    sock.bind((0, 0))
    return sock


def _socket() -> socket.socket:
    # The caller holds _LOCK.
    return _SOCKETS.get(_open_socket)


def _send_getlink(
    index: int, attrs: bytes, flags: int
) -> tuple[socket.socket, int]:
    """Send one RTM_GETLINK; return the socket and its sequence number.

    The caller holds _LOCK until it has read the answer.  Statistics are
    left out of the answer: they are most of its size.
    """
    payload = (
        rtnl.IFINFOMSG.pack(socket.AF_UNSPEC, 0, index, 0, 0)
        + attrs
        + _SKIP_STATS
    )
    _SEQ[0] = (_SEQ[0] + 1) & 0xFFFFFFFF
    seq = _SEQ[0]
    header = rtnl.NLMSGHDR.pack(
        rtnl.NLMSGHDR.size + len(payload), rtnl.RTM_GETLINK, flags, seq, 0
    )
    sock = _socket()
    sock.send(header + payload)
    return sock, seq


def _request(name: str | None, index: int = 0) -> bytes | None:
    """Return the kernel's RTM_NEWLINK answer for one link, or None."""
    attrs = b""
    if name is not None:
        attrs = rtnl.text_attr(rtnl.IFLA_IFNAME, name)
    with _LOCK:
        sock, seq = _send_getlink(index, attrs, rtnl.NLM_F_REQUEST)
        while True:
            data = sock.recv(65536)
            _, kind, _, got_seq, _ = rtnl.NLMSGHDR.unpack_from(data, 0)
            if got_seq == seq:
                break
    if kind == rtnl.NLMSG_ERROR:
        code = rtnl.error_code(data)
        if code in (errno.ENODEV, errno.ENOENT):
            return None
        raise OSError(code, os.strerror(code))
    if kind != rtnl.RTM_NEWLINK:
        raise OSError(errno.EPROTO, "unexpected netlink message %d" % kind)
    return data


_WANTED = frozenset(
    {
        rtnl.IFLA_ADDRESS,
        rtnl.IFLA_IFNAME,
        rtnl.IFLA_MTU,
        rtnl.IFLA_MASTER,
        rtnl.IFLA_LINKINFO,
        rtnl.IFLA_IFALIAS,
    }
)
_LINKINFO_WANTED = frozenset({rtnl.IFLA_INFO_KIND, rtnl.IFLA_INFO_DATA})
_VLAN_WANTED = frozenset({rtnl.IFLA_VLAN_ID})


def _text(data: bytes, span: tuple[int, int] | None) -> str | None:
    if span is None:
        return None
    return _string(data[span[0] : span[1]])


def _link_kind(
    data: bytes, span: tuple[int, int] | None
) -> tuple[str | None, int | None]:
    """The kind in an IFLA_LINKINFO, and the VLAN id of a ``vlan``."""
    if span is None:
        return None, None
    parts = rtnl.spans(data, span[0], span[1], _LINKINFO_WANTED)
    kind = _text(data, parts.get(rtnl.IFLA_INFO_KIND))
    info_data = parts.get(rtnl.IFLA_INFO_DATA)
    if kind != "vlan" or info_data is None:
        return kind, None
    vlan = rtnl.spans(data, info_data[0], info_data[1], _VLAN_WANTED)
    if rtnl.IFLA_VLAN_ID not in vlan:
        return kind, None
    return kind, rtnl.U16.unpack_from(data, vlan[rtnl.IFLA_VLAN_ID][0])[0]


def decode_link(data: bytes) -> Link:
    """Decode one RTM_NEWLINK message (header included) into a Link."""
    length = rtnl.NLMSGHDR.unpack_from(data, 0)[0]
    _, _, index, flags, _ = rtnl.IFINFOMSG.unpack_from(data, _IFINFOMSG_AT)
    found = rtnl.spans(data, _LINK_ATTRS_AT, length, _WANTED)
    kind, vlan_id = _link_kind(data, found.get(rtnl.IFLA_LINKINFO))
    mac = None
    address = found.get(rtnl.IFLA_ADDRESS)
    if address is not None and address[1] - address[0] == 6:
        mac = data[address[0] : address[1]].hex(":")
    mtu = found.get(rtnl.IFLA_MTU)
    master = found.get(rtnl.IFLA_MASTER)
    return Link(
        name=_text(data, found.get(rtnl.IFLA_IFNAME)) or "",
        index=index,
        kind=kind,
        mtu=rtnl.U32.unpack_from(data, mtu[0])[0] if mtu else 0,
        mac=mac,
        up=bool(flags & rtnl.IFF_UP),
        master_index=rtnl.U32.unpack_from(data, master[0])[0] if master else 0,
        alias=_text(data, found.get(rtnl.IFLA_IFALIAS)),
        vlan_id=vlan_id,
    )


def read_link(name: str | None = None, index: int = 0) -> Link | None:
    """Return the device called ``name`` (or numbered ``index``), or None.

    The name must have been validated by the caller: this is the hot path
    of the privileged operations, which validate their arguments first.
    """
    current = _SNAPSHOT.links
    if current is not None:
        if name is not None:
            return current.by_name.get(name)
        return current.by_index.get(index)
    data = _request(name, index)
    return None if data is None else decode_link(data)


def get_device(name: str) -> DeviceInfo | None:
    """Return what the kernel says about device ``name``, or None."""
    validation.interface_name(name)
    link = read_link(name)
    if link is None:
        return None
    return DeviceInfo(**vars(link), master=master_name(link))


def master_name(link: Link) -> str | None:
    """Return the name of ``link``'s master, None if it has none.

    The one place a master index becomes a name (a master that vanished
    meanwhile has none either).
    """
    if not link.master_index:
        return None
    master = read_link(index=link.master_index)
    return None if master is None else master.name


def device_exists(name: str) -> bool:
    """Tell whether the device ``name`` exists in this namespace."""
    validation.interface_name(name)
    return read_link(name) is not None


def ports_of(index: int) -> list[Link]:
    """Return the devices whose master is the device numbered ``index``.

    One dump the kernel filters by master (``IFLA_MASTER`` in the request;
    it marks the answers ``NLM_F_DUMP_FILTERED``), so the answer holds the
    ports only, however many devices the host has: 0.2 ms for a bridge of
    2 ports among 500 links, where a dump of every link takes 9 ms.  What
    it costs grows with the bridge's ports (about 4 ms for 200: a node's
    pods on one bridge).  The master is checked here too, for a kernel
    that would not filter.
    """
    current = _SNAPSHOT.links
    if current is not None:
        return [
            link
            for link in current.by_index.values()
            if link.master_index == index
        ]
    return [link for link in _dump(index) if link.master_index == index]


def dump_links() -> list[Link]:
    """Return every device of this namespace, in one netlink dump."""
    return _dump(None)


def _dump(master: int | None) -> list[Link]:
    return [decode_link(message) for message in _dump_messages(master)]


def _dump_messages(master: int | None) -> list[bytes]:
    """The RTM_NEWLINK messages of one consistent dump."""
    # A dump the kernel marks interrupted (links changed while it was
    # being answered: ovs-vswitchd opening the ports just plugged) may miss
    # a link or hold one twice; it is made again, a few times at most.
    for _attempt in range(_DUMP_ATTEMPTS - 1):
        messages, consistent = _dump_once(master)
        if consistent:
            return messages
    return _dump_once(master)[0]


def _dump_once(master: int | None) -> tuple[list[bytes], bool]:
    attrs = b""
    if master is not None:
        attrs = rtnl.attr(rtnl.IFLA_MASTER, rtnl.U32.pack(master))
    messages: list[bytes] = []
    consistent = True
    with _LOCK:
        sock, seq = _send_getlink(
            0, attrs, rtnl.NLM_F_REQUEST | rtnl.NLM_F_DUMP
        )
        done = False
        while not done:
            data = sock.recv(1 << 20)
            for offset, length, kind, flags, got_seq in rtnl.messages(data):
                if got_seq != seq:
                    continue
                if flags & rtnl.NLM_F_DUMP_INTR:
                    consistent = False
                if kind == rtnl.NLMSG_DONE:
                    done = True
                    break
                if kind == rtnl.NLMSG_ERROR:
                    code = rtnl.error_code(data, offset)
                    if code:
                        raise OSError(code, os.strerror(code))
                    done = True
                    break
                if kind == rtnl.RTM_NEWLINK:
                    messages.append(data[offset : offset + length])
    return messages, consistent


def _name_of(message: bytes) -> str:
    # IFLA_IFNAME is the kernel's first attribute of a link: this stops
    # there, where decode_link walks them all.
    length = rtnl.NLMSGHDR.unpack_from(message, 0)[0]
    offset = _LINK_ATTRS_AT
    unpack = rtnl.RTATTR.unpack_from
    while offset + 4 <= length:
        size, kind = unpack(message, offset)
        if size < 4:
            break
        if kind & 0x3FFF == rtnl.IFLA_IFNAME:
            return _string(message[offset + 4 : offset + size]) or ""
        offset += (size + 3) & ~3
    return ""


_Key = TypeVar("_Key")


class _Links(Mapping[_Key, Link]):
    """Key -> Link of one dump; its keys are those of ``keys``."""

    def __init__(self, keys: Mapping[_Key, Any]) -> None:
        self._keys = keys

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[_Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class _LinksByIndex(_Links[int]):
    """Index -> Link of one dump, each decoded when first read."""

    def __init__(self, messages: dict[int, bytes]) -> None:
        super().__init__(messages)
        self._messages = messages
        self._decoded: dict[int, Link] = {}

    def __getitem__(self, index: int) -> Link:
        link = self._decoded.get(index)
        if link is None:
            link = self._decoded[index] = decode_link(self._messages[index])
        return link


class _LinksByName(_Links[str]):
    """Name -> Link of one dump, through the index table's decoding."""

    def __init__(self, indexes: dict[str, int], links: _LinksByIndex) -> None:
        super().__init__(indexes)
        self._indexes = indexes
        self._links = links

    def __getitem__(self, name: str) -> Link:
        return self._links[self._indexes[name]]


@dataclasses.dataclass(frozen=True)
class LinkTable:
    """Every device of a namespace at one moment, by name and by index.

    Read from one dump; a link is decoded only when it is looked at (a
    check of some VIFs looks at a few of a host's thousands of links).
    """

    by_name: Mapping[str, Link]
    by_index: Mapping[int, Link]

    @classmethod
    def read(cls) -> LinkTable:
        """Dump the links once."""
        messages: dict[int, bytes] = {}
        names: dict[str, int] = {}
        for message in _dump_messages(None):
            index = rtnl.IFINFOMSG.unpack_from(message, rtnl.NLMSGHDR.size)[2]
            messages[index] = message
            names[_name_of(message)] = index
        by_index = _LinksByIndex(messages)
        return cls(_LinksByName(names, by_index), by_index)


class _Snapshot(threading.local):
    links: LinkTable | None = None


_SNAPSHOT = _Snapshot()


@contextlib.contextmanager
def snapshot(table: LinkTable | None = None) -> Iterator[LinkTable]:
    """Answer this thread's reads from one link dump while inside.

    A check of many VIFs reads the kernel once: :func:`read_link`,
    :func:`get_device`, :func:`ports_of` and :func:`bridge_ports` look in
    the table instead of asking netlink.  Only for reads that may be a
    moment old (a check, a collection); never in the privileged daemon.
    """
    previous = _SNAPSHOT.links
    _SNAPSHOT.links = LinkTable.read() if table is None else table
    try:
        yield _SNAPSHOT.links
    finally:
        _SNAPSHOT.links = previous


@contextlib.contextmanager
def live() -> Iterator[None]:
    """Answer this thread's reads from netlink while inside, whatever
    :func:`snapshot` is active (a snapshot is of another namespace's
    links when the thread enters a workload's)."""
    previous = _SNAPSHOT.links
    _SNAPSHOT.links = None
    try:
        yield
    finally:
        _SNAPSHOT.links = previous


def bridge_ports(name: str) -> list[str]:
    """Return the names of the devices attached to the bridge ``name``."""
    validation.interface_name(name)
    link = read_link(name)
    if link is None:
        return []
    return sorted(port.name for port in ports_of(link.index))


def read_sysctl(name: str, family: str, key: str) -> int | None:
    """Return a per-device sysctl, or None if the device or key is absent."""
    validation.interface_name(name)
    # The name was validated: the path cannot leave the device's directory.
    path = "/proc/sys/net/%s/conf/%s/%s" % (family, name, key)
    # os.open/os.read: half the cost of a text file object, and a check of
    # hundreds of VIFs reads two of these per hybrid VIF.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        return int(os.read(fd, 64))
    finally:
        os.close(fd)


def close_sockets() -> None:
    """Close the sockets (a namespace being left or deleted)."""
    _SOCKETS.close()


# A socket still open at exit is reported by Python as a leak.
atexit.register(close_sockets)
