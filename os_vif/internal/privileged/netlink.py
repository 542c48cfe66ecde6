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
