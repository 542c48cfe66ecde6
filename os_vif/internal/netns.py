"""Entering a workload's network namespace, for one block of code.

Both sides use it: the daemon to make and remove a workload's end, the
caller's check to read it.  :func:`entered` moves the calling *thread*
(``setns(2)`` on a thread changes that thread alone) into the namespace
for the block, then back; every netlink socket os_vif opens meanwhile
(:mod:`os_vif.internal.linkstate`, the daemon's
:mod:`~os_vif.internal.privileged.netlink`) is one of that namespace, as
the socket caches are kept per namespace, and is closed on the way out so
that os_vif never keeps a workload's namespace alive.

Entering a namespace needs ``CAP_SYS_ADMIN``: only the workload daemon
(``[vif_plug_workload_privileged]``) has it; a caller without it gets
:class:`PermissionError`, and its check has that daemon read the end
(:mod:`os_vif.internal.unprivileged.workload_reads`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
from collections.abc import Iterator

from os_vif.internal import linkstate, socket_cache, validation

__all__ = ["Gone", "path_of", "entered", "exists"]

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class Gone(Exception):
    """The namespace does not exist (any more)."""


def path_of(reference: str) -> str:
    """The namespace file of ``reference``: a path, or a name under
    ``/run/netns`` (validated, see
    :func:`~os_vif.internal.validation.netns_reference`)."""
    reference = validation.netns_reference(reference)
    if reference.startswith("/"):
        return reference
    return "/run/netns/" + reference


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: %s" % os.strerror(err))


def _open(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        raise Gone(path) from None
    except OSError as err:
        # /proc/<pid>/ns/net of a process that exited.
        if err.errno == errno.ESRCH:
            raise Gone(path) from None
        raise


def exists(reference: str) -> bool:
    """Whether the namespace ``reference`` names is there (no privilege).

    A file under ``/run/netns`` that is no namespace any more (a stale
    name) counts as gone.
    """
    path = path_of(reference)
    try:
        fd = _open(path)
    except Gone:
        return False
    try:
        return _is_netns(fd)
    finally:
        os.close(fd)


def _is_netns(fd: int) -> bool:
    # NS_GET_NSTYPE (ioctl 0xb703) answers CLONE_NEWNET for a network
    # namespace; any error (a stale name is an empty regular file): not
    # a namespace file.
    try:
        return fcntl.ioctl(fd, 0xB703) == _CLONE_NEWNET
    except OSError:
        return False


@contextlib.contextmanager
def entered(reference: str) -> Iterator[None]:
    """Run the block with the calling thread in namespace ``reference``.

    :raises Gone: there is no such namespace.
    :raises PermissionError: this process may not enter it (no
        ``CAP_SYS_ADMIN``).
    """
    target = _open(path_of(reference))
    try:
        if not _is_netns(target):
            raise Gone(reference)
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
            try:
                # Reads inside are of this namespace: never from a
                # snapshot of the host's links.
                with linkstate.live():
                    yield
            finally:
                socket_cache.release_current()
                # The thread must not stay in the workload's namespace:
                # what it does next would happen there.
                _setns(home)
        finally:
            os.close(home)
    finally:
        os.close(target)
