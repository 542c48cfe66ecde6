"""Fast, unprivileged reads of one network device's state.

Deciding that a re-plug has nothing to do means reading a few devices; the
general netlink client (pyroute2) spends about a millisecond per request
in its asynchronous machinery, more than the whole decision should cost.
This module sends the one request needed -- ``RTM_GETLINK`` for a name or
an index -- on a plain rtnetlink socket and decodes only the attributes it
needs, in tens of microseconds.  It never changes anything: writes go
through the privsep daemon (:mod:`os_vif.internal.host_ops`).

Sockets belong to the network namespace they were opened in; the socket
is kept for the calling thread's namespace and replaced when a thread asks
from another one (tests move threads between namespaces).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import threading

from os_vif.internal import netdev, validation

__all__ = ["get_device", "device_exists", "close_sockets"]

_RTM_NEWLINK = 16
_RTM_GETLINK = 18
_NLMSG_ERROR = 2
_NLM_F_REQUEST = 1
_IFF_UP = 1
_IFLA_ADDRESS = 1
_IFLA_IFNAME = 3
_IFLA_MTU = 4
_IFLA_MASTER = 10
_IFLA_LINKINFO = 18
_IFLA_IFALIAS = 20
_IFLA_EXT_MASK = 29
_IFLA_INFO_KIND = 1
# Leave the counters out of the answer: they are most of its size.
_RTEXT_FILTER_SKIP_STATS = 1 << 3

_NLMSGHDR = struct.Struct("=LHHLL")
_IFINFOMSG = struct.Struct("=BxHiII")
_RTATTR = struct.Struct("=HH")

_SOCKETS: dict[int, socket.socket] = {}
_LOCK = threading.Lock()
_SEQ = [0]


def _attr(kind: int, payload: bytes) -> bytes:
    length = _RTATTR.size + len(payload)
    padding = b"\0" * (-length % 4)
    return _RTATTR.pack(length, kind) + payload + padding


def _attrs(data: bytes, offset: int, end: int) -> dict[int, bytes]:
    found = {}
    while offset + _RTATTR.size <= end:
        length, kind = _RTATTR.unpack_from(data, offset)
        if length < _RTATTR.size:
            break
        found[kind & 0x3FFF] = data[offset + _RTATTR.size : offset + length]
        offset += (length + 3) & ~3
    return found


def _string(value: bytes | None) -> str | None:
    if value is None:
        return None
    return value.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _socket() -> socket.socket:
    key = os.stat("/proc/thread-self/ns/net").st_ino
    sock = _SOCKETS.get(key)
    if sock is None:
        # An open socket keeps its namespace alive (with its devices), so
        # only the namespace in use keeps one: a thread that comes back
        # from a namespace the tests deleted releases it here.
        for stale in _SOCKETS.values():
            stale.close()
        _SOCKETS.clear()
        sock = socket.socket(
            socket.AF_NETLINK,
            socket.SOCK_RAW | socket.SOCK_CLOEXEC,
            socket.NETLINK_ROUTE,
        )
        sock.bind((0, 0))
        _SOCKETS[key] = sock
    return sock


def _request(name: str | None, index: int = 0) -> dict[int, bytes] | None:
    """Return the attributes of one link (plus index/flags), or None."""
    payload = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, index, 0, 0)
    if name is not None:
        payload += _attr(_IFLA_IFNAME, name.encode() + b"\0")
    payload += _attr(
        _IFLA_EXT_MASK, struct.pack("=I", _RTEXT_FILTER_SKIP_STATS)
    )
    with _LOCK:
        _SEQ[0] = (_SEQ[0] + 1) & 0xFFFFFFFF
        seq = _SEQ[0]
        header = _NLMSGHDR.pack(
            _NLMSGHDR.size + len(payload),
            _RTM_GETLINK,
            _NLM_F_REQUEST,
            seq,
            0,
        )
        sock = _socket()
        sock.send(header + payload)
        while True:
            data = sock.recv(65536)
            length, kind, _, got_seq, _ = _NLMSGHDR.unpack_from(data, 0)
            if got_seq == seq:
                break
    if kind == _NLMSG_ERROR:
        (code,) = struct.unpack_from("=i", data, _NLMSGHDR.size)
        if -code in (errno.ENODEV, errno.ENOENT):
            return None
        raise OSError(-code, os.strerror(-code))
    if kind != _RTM_NEWLINK:
        raise OSError(errno.EPROTO, "unexpected netlink message %d" % kind)
    _, _, link_index, flags, _ = _IFINFOMSG.unpack_from(data, _NLMSGHDR.size)
    start = _NLMSGHDR.size + _IFINFOMSG.size
    found = _attrs(data, start, length)
    found[-1] = struct.pack("=iI", link_index, flags)
    return found


def get_device(name: str) -> netdev.DeviceInfo | None:
    """Return what the kernel says about device ``name``, or None."""
    validation.interface_name(name)
    found = _request(name)
    if found is None:
        return None
    index, flags = struct.unpack("=iI", found[-1])
    kind = None
    if _IFLA_LINKINFO in found:
        info = found[_IFLA_LINKINFO]
        kind = _string(_attrs(info, 0, len(info)).get(_IFLA_INFO_KIND))
    mac = None
    if _IFLA_ADDRESS in found and len(found[_IFLA_ADDRESS]) == 6:
        mac = ":".join("%02x" % b for b in found[_IFLA_ADDRESS])
    master = None
    if _IFLA_MASTER in found:
        (master_index,) = struct.unpack("=I", found[_IFLA_MASTER][:4])
        master_attrs = _request(None, master_index)
        if master_attrs is not None:
            master = _string(master_attrs.get(_IFLA_IFNAME))
    mtu = (
        struct.unpack("=I", found[_IFLA_MTU][:4])[0]
        if (_IFLA_MTU in found)
        else 0
    )
    return netdev.DeviceInfo(
        name=name,
        index=index,
        kind=kind,
        mtu=mtu,
        mac=mac,
        up=bool(flags & _IFF_UP),
        master=master,
        alias=_string(found.get(_IFLA_IFALIAS)),
    )


def device_exists(name: str) -> bool:
    """Tell whether the device ``name`` exists in this namespace."""
    validation.interface_name(name)
    return _request(name) is not None


def close_sockets() -> None:
    """Close the sockets (a namespace being left or deleted)."""
    with _LOCK:
        for sock in _SOCKETS.values():
            sock.close()
        _SOCKETS.clear()
