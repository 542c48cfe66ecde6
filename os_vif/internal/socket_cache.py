"""Sockets kept open per network namespace, written once.

Opening a netlink or nf_tables socket costs more than a request, and a plan
makes several, so os_vif keeps one open per namespace (and per whatever
else tells them apart, such as an nf_tables family).  The key is the
namespace's inode: a thread that entered another namespace (the test
fixtures do) gets a socket there.  An open socket keeps its namespace
alive with its devices, so a cache can keep only the namespace in use
(``only_current``), and every cache can be closed at once (a namespace
being left or deleted).

Used by the daemon (:mod:`os_vif.internal.privileged.netlink`,
:mod:`~os_vif.internal.privileged.firewall`) and by the caller's link
reader (:mod:`os_vif.internal.linkstate`); it imports nothing
of os_vif.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["current_netns", "SocketCache", "release_current"]

_T = TypeVar("_T")


def current_netns() -> int:
    """Return the inode of the calling thread's network namespace."""
    return os.stat("/proc/thread-self/ns/net").st_ino


class SocketCache(Generic[_T]):
    """Open sockets by namespace (and ``key``), made by ``make`` on first
    use and closed by ``close``.

    ``lock`` guards the cache: :meth:`held` takes it for the block;
    :meth:`get` expects the caller to hold it already.
    """

    def __init__(
        self,
        lock: Any,
        close: Callable[[_T], object],
        *,
        only_current: bool = False,
    ) -> None:
        self.lock = lock
        self._close = close
        self._only_current = only_current
        self._open: dict[tuple[Hashable, ...], _T] = {}
        _CACHES.add(self)

    def get(self, make: Callable[[], _T], *key: Hashable) -> _T:
        """Return the socket of this namespace and ``key`` (lock held)."""
        full = (current_netns(), *key)
        found = self._open.get(full)
        if found is None:
            if self._only_current:
                # A thread back from a namespace the tests deleted
                # releases that namespace here.
                self._drop()
            found = self._open[full] = make()
        return found

    @contextlib.contextmanager
    def held(self, make: Callable[[], _T], *key: Hashable) -> Iterator[_T]:
        """Yield the socket of this namespace and ``key``, held alone."""
        with self.lock:
            yield self.get(make, *key)

    def close(self) -> None:
        """Close every socket of the cache."""
        with self.lock:
            self._drop()

    def release(self, netns: int) -> None:
        """Close the sockets of namespace ``netns`` (its inode)."""
        with self.lock:
            for key in [key for key in self._open if key[0] == netns]:
                sock = self._open.pop(key)
                with contextlib.suppress(Exception):
                    self._close(sock)

    def _drop(self) -> None:
        while self._open:
            _key, sock = self._open.popitem()
            with contextlib.suppress(Exception):
                self._close(sock)


#: Every cache, for :func:`release_current`.
_CACHES: weakref.WeakSet[SocketCache[Any]] = weakref.WeakSet()


def release_current() -> None:
    """Close every cache's sockets of the calling thread's namespace.

    A thread leaving a workload's namespace calls it, so that no socket
    of os_vif keeps that namespace (and its devices) alive once its
    workload is gone.  Never call it while holding a cache's socket.
    """
    netns = current_netns()
    for cache in list(_CACHES):
        cache.release(netns)
