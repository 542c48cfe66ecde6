"""Fast reads of a workload's end: its link, lower link, addresses, routes.

What :func:`os_vif.internal.kernel.workload.read_end` needs, read in the
calling thread's namespace (a thread inside a workload's, see
:func:`os_vif.internal.netns.entered`) on a plain rtnetlink socket and
decoded here: pyroute2's ``IPRoute`` costs milliseconds to open and about
one per request in its machinery, many times what a container's few
addresses and routes take to dump.  Reads only; the socket is opened for
the read and closed after it, so that nothing keeps a workload's
namespace alive.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from collections.abc import Iterator

from os_vif.internal import linkstate

__all__ = ["Lower", "read_link", "addresses", "routes", "nsid_of"]

_RTM_NEWLINK = 16
_RTM_GETLINK = 18
_RTM_NEWADDR = 20
_RTM_GETADDR = 22
_RTM_NEWROUTE = 24
_RTM_GETROUTE = 26
_RTM_NEWNSID = 88
_RTM_GETNSID = 90
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_NLM_F_REQUEST = 1
_NLM_F_DUMP = 0x300
_IFLA_LINK = 5
_IFLA_EXT_MASK = 29
_IFLA_LINK_NETNSID = 37
_RTEXT_FILTER_SKIP_STATS = 1 << 3
_IFA_ADDRESS = 1
_RTA_DST = 1
_RTA_OIF = 4
_RTA_GATEWAY = 5
_RTA_TABLE = 15
_NETNSA_NSID = 1
_NETNSA_FD = 3
_MAIN_TABLE = 254

_NLMSGHDR = struct.Struct("=IHHII")
_IFINFOMSG = struct.Struct("=BxHiII")
_IFADDRMSG = struct.Struct("=BBBBI")
_RTMSG = struct.Struct("=BBBBBBBBI")
_RTGENMSG = struct.Struct("=Bxxx")
_RTATTR = struct.Struct("=HH")
_U32 = struct.Struct("=I")
_I32 = struct.Struct("=i")

#: The default route's destination, by address family.
_DEFAULT = {socket.AF_INET: "0.0.0.0/0", socket.AF_INET6: "::/0"}


def _attr(kind: int, payload: bytes) -> bytes:
    length = _RTATTR.size + len(payload)
    return _RTATTR.pack(length, kind) + payload + b"\0" * (-length % 4)


def _attrs(data: bytes, offset: int, end: int) -> dict[int, bytes]:
    found = {}
    while offset + 4 <= end:
        length, kind = _RTATTR.unpack_from(data, offset)
        if length < 4:
            break
        found[kind & 0x3FFF] = data[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return found


def _exchange(kind: int, flags: int, body: bytes) -> Iterator[bytes]:
    """Send one request; yield the answer's messages (until done)."""
    with socket.socket(
        socket.AF_NETLINK,
        socket.SOCK_RAW | socket.SOCK_CLOEXEC,
        socket.NETLINK_ROUTE,
    ) as sock:
        sock.bind((0, 0))
        sock.send(
            _NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, flags, 1, 0)
            + body
        )
        while True:
            data = sock.recv(1 << 20)
            offset = 0
            while offset + _NLMSGHDR.size <= len(data):
                length, got = _NLMSGHDR.unpack_from(data, offset)[:2]
                if length < _NLMSGHDR.size:
                    return
                message = data[offset : offset + length]
                offset += (length + 3) & ~3
                if got == _NLMSG_DONE:
                    return
                if got == _NLMSG_ERROR:
                    (code,) = _I32.unpack_from(message, _NLMSGHDR.size)
                    if code:
                        raise OSError(-code, os.strerror(-code))
                    return
                yield message
                if not flags & _NLM_F_DUMP:
                    return


class Lower:
    """Where a link's lower link is (``IFLA_LINK``): its index, in the
    namespace ``netnsid`` names from the link's (None: the link's own)."""

    __slots__ = ("index", "netnsid")

    def __init__(self, index: int | None, netnsid: int | None) -> None:
        self.index = index
        self.netnsid = netnsid


def read_link(name: str) -> tuple[linkstate.Link, Lower] | None:
    """The link ``name`` and its lower link (None: no such link).

    The name must have been validated by the caller.
    """
    body = (
        _IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        + _attr(3, name.encode() + b"\0")  # IFLA_IFNAME
        + _attr(_IFLA_EXT_MASK, _U32.pack(_RTEXT_FILTER_SKIP_STATS))
    )
    try:
        messages = list(_exchange(_RTM_GETLINK, _NLM_F_REQUEST, body))
    except OSError as err:
        if err.errno in (errno.ENODEV, errno.ENOENT):
            return None
        raise
    message = next(
        (m for m in messages if _NLMSGHDR.unpack_from(m)[1] == _RTM_NEWLINK),
        None,
    )
    if message is None:
        return None
    found = _attrs(
        message, _NLMSGHDR.size + _IFINFOMSG.size, len(message)
    )
    lower = found.get(_IFLA_LINK)
    netnsid = found.get(_IFLA_LINK_NETNSID)
    return linkstate.decode_link(message), Lower(
        None if lower is None else _U32.unpack(lower[:4])[0],
        None if netnsid is None else _I32.unpack(netnsid[:4])[0],
    )


def addresses(index: int) -> set[str]:
    """The addresses of link ``index`` with their prefixes
    (``10.0.0.5/24``), the IPv6 link-local ones left out."""
    found = set()
    body = _IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
    for message in _exchange(
        _RTM_GETADDR, _NLM_F_REQUEST | _NLM_F_DUMP, body
    ):
        if _NLMSGHDR.unpack_from(message)[1] != _RTM_NEWADDR:
            continue
        family, prefixlen, _, _, owner = _IFADDRMSG.unpack_from(
            message, _NLMSGHDR.size
        )
        if owner != index:
            continue
        attrs = _attrs(
            message, _NLMSGHDR.size + _IFADDRMSG.size, len(message)
        )
        address = attrs.get(_IFA_ADDRESS)
        if address is None or family not in _DEFAULT:
            continue
        interface = ipaddress.ip_interface(
            (ipaddress.ip_address(address), prefixlen)
        )
        if interface.version == 6 and interface.ip.is_link_local:
            continue
        found.add(str(interface))
    return found


def routes(index: int, version: int) -> set[tuple[str, str | None]]:
    """The main table's routes of IP ``version`` out of link ``index``:
    ``(destination prefix, gateway or None)``."""
    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    found: set[tuple[str, str | None]] = set()
    body = _RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)
    for message in _exchange(
        _RTM_GETROUTE, _NLM_F_REQUEST | _NLM_F_DUMP, body
    ):
        if _NLMSGHDR.unpack_from(message)[1] != _RTM_NEWROUTE:
            continue
        got, dst_len, _, _, table = _RTMSG.unpack_from(
            message, _NLMSGHDR.size
        )[:5]
        attrs = _attrs(message, _NLMSGHDR.size + _RTMSG.size, len(message))
        if _RTA_TABLE in attrs:
            table = _U32.unpack(attrs[_RTA_TABLE][:4])[0]
        oif = attrs.get(_RTA_OIF)
        if (
            got != family
            or table != _MAIN_TABLE
            or oif is None
            or _U32.unpack(oif[:4])[0] != index
        ):
            continue
        destination = attrs.get(_RTA_DST)
        prefix = (
            _DEFAULT[family]
            if destination is None
            else str(
                ipaddress.ip_network(
                    (ipaddress.ip_address(destination), dst_len),
                    strict=False,
                )
            )
        )
        gateway = attrs.get(_RTA_GATEWAY)
        found.add(
            (
                prefix,
                None if gateway is None
                else str(ipaddress.ip_address(gateway)),
            )
        )
    return found


def nsid_of(fd: int) -> int | None:
    """The id the calling thread's namespace gives the namespace of file
    descriptor ``fd`` (None: none given yet)."""
    body = _RTGENMSG.pack(socket.AF_UNSPEC) + _attr(
        _NETNSA_FD, _U32.pack(fd)
    )
    for message in _exchange(_RTM_GETNSID, _NLM_F_REQUEST, body):
        if _NLMSGHDR.unpack_from(message)[1] != _RTM_NEWNSID:
            continue
        attrs = _attrs(
            message, _NLMSGHDR.size + _RTGENMSG.size, len(message)
        )
        value = attrs.get(_NETNSA_NSID)
        if value is not None:
            nsid = _I32.unpack(value[:4])[0]
            return None if nsid < 0 else nsid
    return None
