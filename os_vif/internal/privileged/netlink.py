"""The privileged daemon's rtnetlink sockets, one of each per namespace.

Link changes go through :class:`LinkRequests` (:func:`links`): messages
encoded by pyroute2's own message class and sent on a plain socket, one
acknowledged request at a time.  pyroute2's ``IPRoute.link`` also
normalises its keyword arguments and runs every request through its
asynchronous machinery, about a millisecond of Python per request -- a
hybrid plug makes four, and a batch of hundreds of VIFs paid more for that
than for the kernel's work.  The rarer requests that need pyroute2's
decoding (an SR-IOV VF's settings) keep its ``IPRoute`` (:func:`netlink`).
Batches of hundreds of changes (:func:`set_group`, :func:`delete_group`)
go in one send.

Deletions return once the kernel has *unlisted* the device, not when it
has freed it.  The kernel answers RTM_DELLINK only after every reference
to the device is dropped -- RCU grace periods and sleeps of 1, 2, 4... ms
after the device is already gone from every dump, from sysfs, from its
bridge and from its name (measured here: a veth pair unlisted 2.4 ms
after the request, the request answered after 17.7 ms, p50 of 30).
Nothing os_vif or its callers do next waits on that memory, so the
request is sent by a thread of its own (:func:`_send_deletions`) and the
call returns when the kernel announces the device gone on the
namespace's link group, or refuses the request; the thread finishes the
kernel's wait in the background (at most :data:`MAX_DRAINING` at once).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import threading
from collections.abc import Collection, Sequence
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from os_vif.internal import rtnl, socket_cache

__all__ = [
    "LinkRequests",
    "links",
    "netlink",
    "close_sockets",
    "send_batch",
    "set_group",
    "delete_group",
    "MAX_DRAINING",
]

# asm-generic/socket.h (not in Python's socket module).
_SO_SNDBUFFORCE = 32
_SO_RCVBUFFORCE = 33


# One socket per namespace (see socket_cache); both caches share a lock.
_SOCKET_LOCK = threading.RLock()
_SOCKETS: socket_cache.SocketCache[IPRoute] = socket_cache.SocketCache(
    _SOCKET_LOCK, lambda ipr: ipr.close()
)
_LINK_REQUESTS: socket_cache.SocketCache[LinkRequests] = (
    socket_cache.SocketCache(_SOCKET_LOCK, lambda requests: requests.close())
)


def netlink() -> contextlib.AbstractContextManager[IPRoute]:
    """Yield this process's pyroute2 socket for the current namespace.

    The socket is shared; it is held exclusively while the block runs.
    """
    return _SOCKETS.held(IPRoute)


def links() -> contextlib.AbstractContextManager[LinkRequests]:
    """Yield this process's :class:`LinkRequests` for the current namespace.

    Shared; held exclusively while the block runs.
    """
    return _LINK_REQUESTS.held(LinkRequests)


def close_sockets() -> None:
    """Close every cached netlink socket (a closed socket keeps no netns)."""
    with _SOCKET_LOCK:
        _SOCKETS.close()
        _LINK_REQUESTS.close()


def _given(*attrs: tuple[str, Any]) -> list[tuple[str, Any]]:
    """The netlink attributes among ``attrs`` whose value is not None."""
    return [attr for attr in attrs if attr[1] is not None]


class LinkRequests:
    """Create, change and delete links: one acknowledged request each.

    Errors are pyroute2's :class:`~pyroute2.netlink.exceptions.NetlinkError`
    (``code`` is the errno), as ``IPRoute.link`` raises them.
    """

    def __init__(self) -> None:
        self._socket = socket.socket(
            socket.AF_NETLINK,
            socket.SOCK_RAW | socket.SOCK_CLOEXEC,
            socket.NETLINK_ROUTE,
        )
        self._socket.bind((0, 0))
        self._sequence = 0

    def close(self) -> None:
        """Close the socket."""
        self._socket.close()

    def add(
        self,
        name: str,
        kind: str,
        *,
        mtu: int | None = None,
        up: bool = False,
        master: int | None = None,
        lower: int | None = None,
        data: Sequence[tuple[str, Any]] = (),
        peer: Sequence[tuple[str, Any]] = (),
    ) -> None:
        """Create link ``name`` of ``kind`` (EEXIST if the name is taken).

        ``data`` are the kind's attributes (``IFLA_BR_*``, ``IFLA_VLAN_*``);
        ``peer`` the attributes of a veth's other end; ``lower`` the link a
        VLAN device sits on.
        """
        attrs = _given(
            ("IFLA_IFNAME", name),
            ("IFLA_MTU", mtu),
            ("IFLA_MASTER", master),
            ("IFLA_LINK", lower),
        )
        info: list[tuple[str, Any]] = list(data)
        if peer:
            info.append(("VETH_INFO_PEER", {"attrs": list(peer)}))
        linkinfo: list[tuple[str, Any]] = [("IFLA_INFO_KIND", kind)]
        if info:
            linkinfo.append(("IFLA_INFO_DATA", {"attrs": info}))
        attrs.append(("IFLA_LINKINFO", {"attrs": linkinfo}))
        self._request(
            rtnl.NLM_F_REQUEST_ACK | rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL,
            0,
            attrs,
            up=up or None,
        )

    def set(
        self,
        index: int,
        *,
        alias: str | None = None,
        mtu: int | None = None,
        mac: str | None = None,
        up: bool | None = None,
        master: int | None = None,
    ) -> None:
        """Change what is given of link ``index`` (``master=0``: none)."""
        attrs = _given(
            ("IFLA_IFALIAS", alias),
            ("IFLA_MTU", mtu),
            ("IFLA_ADDRESS", mac),
            ("IFLA_MASTER", master),
        )
        self._request(rtnl.NLM_F_REQUEST_ACK, index, attrs, up=up)

    def delete(self, index: int) -> None:
        """Delete link ``index``; one already gone is fine.

        Returns once the kernel has unlisted it (see the module).
        """
        (code,) = _send_deletions(
            _encoded_link_message(rtnl.RTM_DELLINK, index, None, 1),
            1,
            (index,),
        )
        if code and code != errno.ENODEV:
            raise NetlinkError(code, os.strerror(code))

    def _request(
        self,
        flags: int,
        index: int,
        attrs: list[tuple[str, Any]],
        *,
        up: bool | None = None,
    ) -> None:
        msg = ifinfmsg()
        msg["index"] = index
        if up is not None:
            msg["flags"] = rtnl.IFF_UP if up else 0
            msg["change"] = rtnl.IFF_UP
        msg["attrs"] = attrs
        self._sequence = (self._sequence + 1) & 0xFFFFFFFF or 1
        msg["header"]["type"] = rtnl.RTM_NEWLINK
        msg["header"]["flags"] = flags
        msg["header"]["sequence_number"] = self._sequence
        msg.encode()
        self._socket.send(msg.data)
        while True:
            reply = self._socket.recv(65536)
            for offset, _, kind, _, sequence in rtnl.messages(reply):
                if kind == rtnl.NLMSG_ERROR and sequence == self._sequence:
                    code = rtnl.error_code(reply, offset)
                    if code:
                        raise NetlinkError(code, os.strerror(code))
                    return


def send_batch(data: bytes, count: int) -> list[int]:
    """Send ``count`` acknowledged requests at once; return their errors.

    One ``send`` and one pass over the acks, on a socket of its own in the
    calling thread's namespace: pyroute2's request methods wait for each
    answer before the next request (about a millisecond each in its
    machinery), which a batch of hundreds cannot afford.  The result holds
    one error number per request, in order (0: done).
    """
    with _batch_socket() as sock:
        sock.send(data)
        return _acks(sock, count)


def _batch_socket(groups: int = 0) -> socket.socket:
    """A new rtnetlink socket in the calling thread's namespace."""
    sock = socket.socket(
        socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
        socket.NETLINK_ROUTE,
    )
    try:
        # The daemon has CAP_NET_ADMIN: a batch of a thousand requests
        # (and their acks), or a burst of announcements, fits in one
        # buffer whatever wmem_max says.
        sock.setsockopt(socket.SOL_SOCKET, _SO_SNDBUFFORCE, 1 << 24)
        sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 1 << 24)
        sock.bind((0, groups))
    except BaseException:
        sock.close()
        raise
    return sock


def _acks(sock: socket.socket, count: int) -> list[int]:
    """Read ``count`` acks from ``sock``: their error numbers, in order."""
    errors: list[int] = []
    while len(errors) < count:
        reply = sock.recv(1 << 22)
        errors.extend(
            rtnl.error_code(reply, offset)
            for offset, _, kind, _, _ in rtnl.messages(reply)
            if kind == rtnl.NLMSG_ERROR
        )
    return errors


#: Deletions whose kernel wait may run in the background at once; one more
#: waits for a slot (each holds a thread and a socket until the kernel
#: answers).
MAX_DRAINING = 64
_DRAINING = threading.BoundedSemaphore(MAX_DRAINING)


class _Answer:
    """The acks of a request a drain thread sends, and an eventfd that
    becomes readable when they are in.  Both the thread and the caller
    hold it; the last to let go closes the eventfd."""

    def __init__(self) -> None:
        self.fd = os.eventfd(0, os.EFD_CLOEXEC)
        self.errors: list[int] | None = None
        self._holders = 2
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if not self._holders:
                os.close(self.fd)


def _drain(
    sock: socket.socket, data: bytes, count: int, answer: _Answer
) -> None:
    """Send the request and read its acks (the kernel's whole wait)."""
    try:
        try:
            sock.send(data)
            answer.errors = _acks(sock, count)
        except OSError as err:
            answer.errors = [err.errno or errno.EIO] * count
        finally:
            sock.close()
        os.eventfd_write(answer.fd, 1)
    finally:
        answer.release()
        _DRAINING.release()


# Where a link message's ifinfomsg (its index) ends.
_IFINFO_END = rtnl.NLMSGHDR.size + rtnl.IFINFOMSG.size


def _unlisted(announcements: bytes) -> list[int]:
    """The link indexes of the RTM_DELLINK messages in ``announcements``."""
    found = []
    for offset, length, kind, _, _ in rtnl.messages(announcements):
        if kind == rtnl.RTM_DELLINK and length >= _IFINFO_END:
            found.append(
                rtnl.IFINFOMSG.unpack_from(
                    announcements, offset + rtnl.NLMSGHDR.size
                )[2]
            )
    return found



def _send_deletions(
    data: bytes, count: int, indexes: Collection[int]
) -> list[int]:
    """Send ``count`` acknowledged deletion requests of the links
    ``indexes``; return their errors once the kernel has unlisted every
    one of them (all 0 then) or answered (see the module).

    The announcements are listened to before the request goes, so none is
    missed; should the listening socket overflow, the kernel's answer
    decides.
    """
    monitor = _batch_socket(rtnl.RTMGRP_LINK)
    try:
        sock = _batch_socket()
    except BaseException:
        monitor.close()
        raise
    answer = _Answer()
    _DRAINING.acquire()
    try:
        threading.Thread(
            target=_drain,
            args=(sock, data, count, answer),
            name="os-vif-link-deletion",
            daemon=True,
        ).start()
    except BaseException:
        _DRAINING.release()
        sock.close()
        answer.release()
        raise
    pending = set(indexes)
    watched: list[Any] = [monitor, answer.fd]
    try:
        while True:
            ready, _, _ = select.select(watched, [], [])
            if answer.fd in ready:
                assert answer.errors is not None
                return answer.errors
            try:
                announcements = monitor.recv(1 << 20)
            except OSError as err:
                if err.errno != errno.ENOBUFS:
                    raise
                watched = [answer.fd]
                continue
            pending.difference_update(_unlisted(announcements))
            if not pending:
                return [0] * count
    finally:
        monitor.close()
        answer.release()


def _encoded_link_message(
    kind: int, index: int, group: int | None, sequence: int
) -> bytes:
    """One acknowledged link request of link ``index`` (0: none) naming
    link group ``group`` (None: none)."""
    msg = ifinfmsg()
    msg["index"] = index
    msg["attrs"] = [] if group is None else [("IFLA_GROUP", group)]
    msg["header"]["type"] = kind
    msg["header"]["flags"] = rtnl.NLM_F_REQUEST_ACK
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
        _encoded_link_message(rtnl.RTM_NEWLINK, index, group, number)
        for number, index in enumerate(indexes, 1)
    )
    for code in send_batch(data, len(indexes)):
        _raise_unless(code, errno.ENODEV)


def delete_group(group: int, indexes: Collection[int]) -> None:
    """Delete every link of link group ``group`` (``indexes``, which
    :func:`set_group` put there): one RTM_DELLINK.

    The kernel unregisters them together, after one RCU grace period for
    all (deleting one at a time waits one per device); returns once every
    one of ``indexes`` is unlisted (see the module).  An empty group
    (ENODEV) is nothing to delete.  pyroute2's ``link("del")`` insists on
    an index, so the request is encoded here from its message class.
    """
    (code,) = _send_deletions(
        _encoded_link_message(rtnl.RTM_DELLINK, 0, group, 1), 1, indexes
    )
    _raise_unless(code, errno.ENODEV)
