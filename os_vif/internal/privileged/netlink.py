"""The privileged daemon's rtnetlink sockets (pyroute2), one per namespace."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import struct
import threading
from collections.abc import Iterator, Sequence

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

__all__ = [
    "netlink",
    "close_sockets",
    "delete_index",
    "set_group",
    "delete_group",
]

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


# rtnetlink constants (linux/rtnetlink.h, linux/netlink.h, socket.h).
_RTM_NEWLINK = 16
_RTM_DELLINK = 17
_NLMSG_ERROR = 2
_NLM_F_REQUEST_ACK = 0x1 | 0x4
_SO_SNDBUFFORCE = 32
_SO_RCVBUFFORCE = 33


def _send_batch(data: bytes, count: int) -> list[int]:
    """Send ``count`` acknowledged requests at once; return their errors.

    One ``send`` and one pass over the acks, on a socket of its own in the
    calling thread's namespace: pyroute2's request methods wait for each
    answer before the next request (about a millisecond each in its
    machinery), which a batch of hundreds cannot afford.  The result holds
    one error number per request, in order (0: done).
    """
    with socket.socket(
        socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
        socket.NETLINK_ROUTE,
    ) as sock:
        # The daemon has CAP_NET_ADMIN: a batch of a thousand requests
        # (and their acks) fits in one buffer whatever wmem_max says.
        sock.setsockopt(socket.SOL_SOCKET, _SO_SNDBUFFORCE, 1 << 24)
        sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 1 << 24)
        sock.bind((0, 0))
        sock.send(data)
        errors: list[int] = []
        while len(errors) < count:
            reply = sock.recv(1 << 22)
            offset = 0
            while offset + 16 <= len(reply):
                length, kind = struct.unpack_from("=IH", reply, offset)
                if length < 16:
                    break
                if kind == _NLMSG_ERROR:
                    errors.append(
                        -struct.unpack_from("=i", reply, offset + 16)[0]
                    )
                offset += (length + 3) & ~3
    return errors


def _encoded_link_message(
    kind: int, index: int, group: int, sequence: int
) -> bytes:
    """One acknowledged link request naming link group ``group``."""
    msg = ifinfmsg()
    msg["index"] = index
    msg["attrs"] = [("IFLA_GROUP", group)]
    msg["header"]["type"] = kind
    msg["header"]["flags"] = _NLM_F_REQUEST_ACK
    msg["header"]["sequence_number"] = sequence
    msg.encode()
    return bytes(msg.data)


def _raise_unless(code: int, *fine: int) -> None:
    if code and code not in fine:
        raise OSError(code, os.strerror(code))


def set_group(indexes: Sequence[int], group: int) -> None:
    """Put every link of ``indexes`` in link group ``group``: one send.

    A link already gone (ENODEV) is skipped; any other refusal raises
    (after every request was answered), naming the first.
    """
    if not indexes:
        return
    # pyroute2's IPBatch would do, but it runs each message through the
    # request machinery (about 0.2 ms each); its message class alone
    # encodes one in tens of microseconds.
    data = b"".join(
        _encoded_link_message(_RTM_NEWLINK, index, group, number)
        for number, index in enumerate(indexes, 1)
    )
    for code in _send_batch(data, len(indexes)):
        _raise_unless(code, errno.ENODEV)


def delete_group(group: int) -> None:
    """Delete every link of link group ``group``: one RTM_DELLINK.

    The kernel unregisters them together, after one RCU grace period for
    all (deleting one at a time waits one per device).  An empty group
    (ENODEV) is nothing to delete.  pyroute2's ``link("del")`` insists on
    an index, so the request is encoded here from its message class.
    """
    (code,) = _send_batch(
        _encoded_link_message(_RTM_DELLINK, 0, group, 1), 1
    )
    _raise_unless(code, errno.ENODEV)
