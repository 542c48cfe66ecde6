"""The rtnetlink wire format os_vif reads and writes itself.

Where a request's cost matters, os_vif encodes and decodes rtnetlink
messages with :mod:`struct` instead of pyroute2's machinery (see
:mod:`os_vif.internal.linkstate`, :mod:`os_vif.internal.inside`,
:mod:`os_vif.internal.privileged.addressing` and
:mod:`os_vif.internal.privileged.netlink`).  This module is the one place
that spells the kernel's numbers (``linux/netlink.h``, ``rtnetlink.h``,
``if_link.h``, ``if_addr.h``, ``net_namespace.h``), the layouts of the
headers, how an attribute is framed and how the messages of one receive
are walked; what each request means stays with its module.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

__all__ = [
    "NLMSGHDR",
    "IFINFOMSG",
    "IFADDRMSG",
    "RTMSG",
    "RTGENMSG",
    "RTATTR",
    "U16",
    "U32",
    "I32",
    "attr",
    "text_attr",
    "spans",
    "messages",
    "error_code",
]

# linux/netlink.h: message types and flags.
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_REQUEST_ACK = NLM_F_REQUEST | NLM_F_ACK
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP_FILTERED = 0x20
NLM_F_DUMP = 0x300
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400

# linux/rtnetlink.h: message types, groups, tables, route fields.
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_DELADDR = 21
RTM_GETADDR = 22
RTM_NEWROUTE = 24
RTM_DELROUTE = 25
RTM_GETROUTE = 26
RTM_NEWNSID = 88
RTM_GETNSID = 90
RTMGRP_LINK = 0x1
RT_TABLE_MAIN = 254
RTPROT_STATIC = 4
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RTN_UNICAST = 1
RTA_DST = 1
RTA_OIF = 4
RTA_GATEWAY = 5
RTA_TABLE = 15
RTEXT_FILTER_SKIP_STATS = 1 << 3

# linux/if.h, linux/if_link.h: link flags and attributes.
IFF_UP = 0x1
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINK = 5
IFLA_MASTER = 10
IFLA_LINKINFO = 18
IFLA_IFALIAS = 20
IFLA_NET_NS_FD = 28
IFLA_EXT_MASK = 29
IFLA_LINK_NETNSID = 37
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_VLAN_ID = 1
IFLA_MACVLAN_MODE = 1
MACVLAN_MODE_BRIDGE = 4
VETH_INFO_PEER = 1

# linux/if_addr.h: address attributes and flags.
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_F_NODAD = 0x02

# linux/net_namespace.h: namespace id attributes.
NETNSA_NSID = 1
NETNSA_FD = 3

#: struct nlmsghdr: length, type, flags, sequence, port.
NLMSGHDR = struct.Struct("=IHHII")
#: struct ifinfomsg: family, (pad), type, index, flags, change.
IFINFOMSG = struct.Struct("=BxHiII")
#: struct ifaddrmsg: family, prefix length, flags, scope, index.
IFADDRMSG = struct.Struct("=BBBBI")
#: struct rtmsg: family, dst/src length, tos, table, protocol, scope,
#: type, flags.
RTMSG = struct.Struct("=BBBBBBBBI")
#: struct rtgenmsg (padded): family.
RTGENMSG = struct.Struct("=Bxxx")
#: struct rtattr: length, type.
RTATTR = struct.Struct("=HH")
U16 = struct.Struct("=H")
U32 = struct.Struct("=I")
I32 = struct.Struct("=i")

# The type bits of an attribute (NLA_F_NESTED and NLA_F_NET_BYTEORDER off).
_NLA_TYPE_MASK = 0x3FFF


def attr(kind: int, payload: bytes) -> bytes:
    """One attribute of type ``kind``, padded to four bytes."""
    length = RTATTR.size + len(payload)
    return RTATTR.pack(length, kind) + payload + b"\0" * (-length % 4)


def text_attr(kind: int, value: str) -> bytes:
    """One string attribute (NUL-terminated, as the kernel wants them)."""
    return attr(kind, value.encode() + b"\0")


def spans(
    data: bytes, offset: int, end: int, wanted: frozenset[int]
) -> dict[int, tuple[int, int]]:
    """Where each ``wanted`` attribute's payload starts and ends in ``data``
    (the attributes between ``offset`` and ``end``).

    Offsets, not copies: a link's answer holds about forty attributes, of
    which a read looks at six, and a batch's check decodes thousands.
    """
    found = {}
    unpack = RTATTR.unpack_from
    while offset + 4 <= end:
        length, kind = unpack(data, offset)
        if length < 4:
            break
        kind &= _NLA_TYPE_MASK
        if kind in wanted:
            found[kind] = (offset + 4, offset + length)
        offset += (length + 3) & ~3
    return found


def messages(data: bytes) -> Iterator[tuple[int, int, int, int, int]]:
    """The messages of one receive: ``(offset, length, type, flags,
    sequence)`` of each, in order; a truncated one ends the walk."""
    offset = 0
    unpack = NLMSGHDR.unpack_from
    size = NLMSGHDR.size
    while offset + size <= len(data):
        length, kind, flags, sequence, _ = unpack(data, offset)
        if length < size:
            return
        yield offset, length, kind, flags, sequence
        offset += (length + 3) & ~3


def error_code(data: bytes, offset: int = 0) -> int:
    """The error number of the NLMSG_ERROR message at ``offset`` (0: an
    ack); the kernel sends it negated."""
    return -I32.unpack_from(data, offset + NLMSGHDR.size)[0]
