"""The privileged daemon's rtnetlink sockets (pyroute2), one per namespace."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Iterator

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

__all__ = ["netlink", "close_sockets", "delete_index"]

# Opening a socket costs more than a whole request, and a plan makes
# several.  The key is the namespace's inode: a thread that entered another
# namespace (the test fixtures do) gets a socket there.
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


def delete_index(ipr: IPRoute, index: int) -> None:
    """Delete the link numbered ``index``; one already gone is fine."""
    try:
        ipr.link("del", index=index)
    except NetlinkError as err:
        if err.code != errno.ENODEV:
            raise


# rtnetlink constants (linux/rtnetlink.h, linux/netlink.h).
_RTM_DELLINK = 17
_NLMSG_ERROR = 2
_NLM_F_REQUEST_ACK = 0x1 | 0x4


def delete_group(group: int) -> None:
    """Delete every link of link group ``group``: one RTM_DELLINK.

    The kernel unregisters them together, after one RCU grace period for
    all (deleting one at a time waits one per device).  An empty group
    (ENODEV) is nothing to delete.  pyroute2's ``link("del")`` insists on
    an index, so the request is encoded here and sent on a socket of its
    own, in the calling thread's namespace.
    """
    import socket
    import struct

    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

    msg = ifinfmsg()
    msg["index"] = 0
    msg["attrs"] = [("IFLA_GROUP", group)]
    msg["header"]["type"] = _RTM_DELLINK
    msg["header"]["flags"] = _NLM_F_REQUEST_ACK
    msg["header"]["sequence_number"] = 1
    msg.encode()
    with socket.socket(
        socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE
    ) as sock:
        sock.bind((0, 0))
        sock.send(bytes(msg.data))
        while True:
            reply = sock.recv(65536)
            offset = 0
            while offset < len(reply):
                length, kind = struct.unpack_from("=IH", reply, offset)
                if kind == _NLMSG_ERROR:
                    code = -struct.unpack_from("=i", reply, offset + 16)[0]
                    if code and code != errno.ENODEV:
                        raise OSError(code, os.strerror(code))
                    return
                offset += (length + 3) & ~3
