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
from collections.abc import Iterator

from os_vif.internal import linkstate, rtnl

__all__ = ["Lower", "read_link", "addresses", "routes", "nsid_of"]

#: The default route's destination, by address family.
_DEFAULT = {socket.AF_INET: "0.0.0.0/0", socket.AF_INET6: "::/0"}

_LINK_WANTED = frozenset({rtnl.IFLA_LINK, rtnl.IFLA_LINK_NETNSID})
_ADDR_WANTED = frozenset({rtnl.IFA_ADDRESS})
_ROUTE_WANTED = frozenset(
    {rtnl.RTA_DST, rtnl.RTA_OIF, rtnl.RTA_GATEWAY, rtnl.RTA_TABLE}
)
_NSID_WANTED = frozenset({rtnl.NETNSA_NSID})


def _attrs(
    message: bytes, header: int, wanted: frozenset[int]
) -> dict[int, bytes]:
    """The ``wanted`` attributes of ``message`` after its fixed ``header``
    (bytes after the nlmsghdr), their payloads."""
    found = rtnl.spans(
        message, rtnl.NLMSGHDR.size + header, len(message), wanted
    )
    return {kind: message[start:end] for kind, (start, end) in found.items()}


def _exchange(
    kind: int, flags: int, body: bytes, answer: int
) -> Iterator[bytes]:
    """Send one request; yield the answer's messages of type ``answer``
    (until done)."""
    with socket.socket(
        socket.AF_NETLINK,
        socket.SOCK_RAW | socket.SOCK_CLOEXEC,
        socket.NETLINK_ROUTE,
    ) as sock:
        sock.bind((0, 0))
        sock.send(
            rtnl.NLMSGHDR.pack(
                rtnl.NLMSGHDR.size + len(body), kind, flags, 1, 0
            )
            + body
        )
        while True:
            data = sock.recv(1 << 20)
            for offset, length, got, _, _ in rtnl.messages(data):
                if got == rtnl.NLMSG_DONE:
                    return
                if got == rtnl.NLMSG_ERROR:
                    code = rtnl.error_code(data, offset)
                    if code:
                        raise OSError(code, os.strerror(code))
                    return
                if got == answer:
                    yield data[offset : offset + length]
                if not flags & rtnl.NLM_F_DUMP:
                    return


def _dump(kind: int, body: bytes, answer: int) -> Iterator[bytes]:
    """Dump with request ``kind``: the answer's messages of type
    ``answer``."""
    return _exchange(kind, rtnl.NLM_F_REQUEST | rtnl.NLM_F_DUMP, body, answer)


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
        rtnl.IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        + rtnl.text_attr(rtnl.IFLA_IFNAME, name)
        + rtnl.attr(
            rtnl.IFLA_EXT_MASK, rtnl.U32.pack(rtnl.RTEXT_FILTER_SKIP_STATS)
        )
    )
    try:
        messages = list(
            _exchange(
                rtnl.RTM_GETLINK, rtnl.NLM_F_REQUEST, body, rtnl.RTM_NEWLINK
            )
        )
    except OSError as err:
        if err.errno in (errno.ENODEV, errno.ENOENT):
            return None
        raise
    if not messages:
        return None
    message = messages[0]
    found = _attrs(message, rtnl.IFINFOMSG.size, _LINK_WANTED)
    lower = found.get(rtnl.IFLA_LINK)
    netnsid = found.get(rtnl.IFLA_LINK_NETNSID)
    return linkstate.decode_link(message), Lower(
        None if lower is None else rtnl.U32.unpack(lower[:4])[0],
        None if netnsid is None else rtnl.I32.unpack(netnsid[:4])[0],
    )


def addresses(index: int) -> set[str]:
    """The addresses of link ``index`` with their prefixes
    (``10.0.0.5/24``), the IPv6 link-local ones left out."""
    found = set()
    body = rtnl.IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
    for message in _dump(rtnl.RTM_GETADDR, body, rtnl.RTM_NEWADDR):
        family, prefixlen, _, _, owner = rtnl.IFADDRMSG.unpack_from(
            message, rtnl.NLMSGHDR.size
        )
        if owner != index:
            continue
        attrs = _attrs(message, rtnl.IFADDRMSG.size, _ADDR_WANTED)
        address = attrs.get(rtnl.IFA_ADDRESS)
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
    body = rtnl.RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)
    for message in _dump(rtnl.RTM_GETROUTE, body, rtnl.RTM_NEWROUTE):
        got, dst_len, _, _, table = rtnl.RTMSG.unpack_from(
            message, rtnl.NLMSGHDR.size
        )[:5]
        attrs = _attrs(message, rtnl.RTMSG.size, _ROUTE_WANTED)
        if rtnl.RTA_TABLE in attrs:
            table = rtnl.U32.unpack(attrs[rtnl.RTA_TABLE][:4])[0]
        oif = attrs.get(rtnl.RTA_OIF)
        if (
            got != family
            or table != rtnl.RT_TABLE_MAIN
            or oif is None
            or rtnl.U32.unpack(oif[:4])[0] != index
        ):
            continue
        destination = attrs.get(rtnl.RTA_DST)
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
        gateway = attrs.get(rtnl.RTA_GATEWAY)
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
    body = rtnl.RTGENMSG.pack(socket.AF_UNSPEC) + rtnl.attr(
        rtnl.NETNSA_FD, rtnl.U32.pack(fd)
    )
    for message in _exchange(
        rtnl.RTM_GETNSID, rtnl.NLM_F_REQUEST, body, rtnl.RTM_NEWNSID
    ):
        attrs = _attrs(message, rtnl.RTGENMSG.size, _NSID_WANTED)
        value = attrs.get(rtnl.NETNSA_NSID)
        if value is not None:
            nsid = rtnl.I32.unpack(value[:4])[0]
            return None if nsid < 0 else nsid
    return None
