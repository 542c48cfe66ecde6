"""Fresh network namespaces, with the privsep daemons inside.

:func:`fresh_netns` makes a named network namespace (visible as
``/run/netns/<name>``, so ``ip netns exec`` and ovs tools can use it),
moves the calling thread into it, and stops os_vif's privsep daemons so
that the next privileged call starts a new daemon *inside* that namespace.
On exit, whether the test passed or failed, it stops those daemons again,
returns the thread to its original namespace and deletes the namespace
(which destroys every device left in it).  The host's own interfaces are
never visible to the test.

:func:`entered` does the same for a namespace that already exists (the OVS
fixtures' session namespace), without deleting it.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import uuid
from collections.abc import Iterator

from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns

from os_vif.internal.privileged import context, firewall, netlink
from os_vif.sandbox import interrupts

__all__ = [
    "setns",
    "Namespace",
    "fresh_netns",
    "entered",
    "current_netns_inode",
    "missing_reason",
]

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd: int) -> None:
    """Move the calling thread into the network namespace open as ``fd``."""
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: %s" % os.strerror(err))


def current_netns_inode() -> int:
    """Return the inode of the calling thread's network namespace."""
    return os.stat("/proc/thread-self/ns/net").st_ino


def missing_reason() -> str | None:
    """Say why network namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "functional tests need root (network namespaces, netlink)"
    if not os.path.exists("/proc/self/ns/net"):
        return "this kernel has no network namespaces"
    return None


@dataclasses.dataclass(frozen=True)
class Namespace:
    """A network namespace a test runs in."""

    # Not a test class, whatever its name says.
    __test__ = False

    name: str

    @property
    def path(self) -> str:
        """The namespace file, for ``setns`` or ``move_to_netns``."""
        return "/run/netns/" + self.name

    @property
    def inode(self) -> int:
        """The namespace's inode, to compare with a process's."""
        return os.stat(self.path).st_ino

    def link_names(self) -> list[str]:
        """Names of every link in the namespace, sorted."""
        with _ipr_in(self.path) as ipr:
            return sorted(link.get("ifname") for link in ipr.get_links())


@contextlib.contextmanager
def _ipr_in(path: str) -> Iterator[IPRoute]:
    with entered_path(path, restart_privsep=False):
        ipr = IPRoute()
    try:
        yield ipr
    finally:
        ipr.close()


def _reset_process_state() -> None:
    # Daemons and cached sockets belong to the namespace they were made in.
    context.stop_all()
    netlink.close_sockets()
    firewall.close_sockets()


@contextlib.contextmanager
def entered_path(path: str, restart_privsep: bool = True) -> Iterator[None]:
    """Run the block with the calling thread in the namespace ``path``."""
    # Entering and leaving are shielded from signals (see
    # os_vif.sandbox.interrupts): a thread left in the namespace, or a
    # daemon left running in it, would keep it alive.
    fds: list[int] = []
    entered = False
    try:
        with interrupts.shielded():
            flags = os.O_RDONLY | os.O_CLOEXEC
            fds.append(os.open("/proc/thread-self/ns/net", flags))
            fds.append(os.open(path, flags))
            if restart_privsep:
                _reset_process_state()
            setns(fds[1])
            entered = True
        yield
    finally:
        with interrupts.shielded():
            try:
                if entered:
                    if restart_privsep:
                        _reset_process_state()
                    setns(fds[0])
            finally:
                for fd in fds:
                    os.close(fd)


@contextlib.contextmanager
def entered(name: str) -> Iterator[Namespace]:
    """Enter the existing namespace ``name`` (privsep daemons follow)."""
    handle = Namespace(name)
    with entered_path(handle.path):
        yield handle


@contextlib.contextmanager
def fresh_netns(prefix: str = "osvif") -> Iterator[Namespace]:
    """Make, enter, and finally delete a new network namespace."""
    name = "%s-%d-%s" % (prefix, os.getpid(), uuid.uuid4().hex[:8])
    attempted = False
    try:
        with interrupts.shielded():
            # pyroute2 makes the mount point before a child process binds
            # the namespace to it: a failed create can leave the file.
            attempted = True
            pyroute2_netns.create(name)
        with entered(name) as handle:
            with interrupts.shielded(), IPRoute() as ipr:
                loopback = ipr.link_lookup(ifname="lo")[0]
                ipr.link("set", index=loopback, state="up")
            yield handle
    finally:
        if attempted:
            interrupts.call_shielded(_remove, name)


def _remove(name: str) -> None:
    """Delete the namespace ``name``: unmount and unlink; absent is fine."""
    try:
        pyroute2_netns.remove(name)
    except FileNotFoundError:
        pass
