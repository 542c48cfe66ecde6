"""The daemon's record of what a running plan did, on disk.

Every undo a plan's operations record is written here first (one JSON
line per undo operation, before the change it undoes), in a file named
after the plan's id.  The file is removed when the call returns.  If the
daemon dies or is killed mid-call, the file stays: the client starts a new
daemon and asks it to *recover* the plan, which runs the journaled undo
operations newest first -- the daemon trusts them because it wrote them
itself -- and removes the file.  So a plug interrupted anywhere leaves
nothing behind.

Writes are plain ``write()`` calls on a file kept open for the call: a
killed process loses nothing the kernel already has.  A host crash is not
covered (a reboot empties ``/run`` and removes the devices anyway).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from typing import Any

from os_vif.internal.kernel.base import plan_id

__all__ = [
    "DIRECTORY",
    "Journal",
    "path",
    "private_directory",
    "read",
    "remove",
    "plan_id",
]

LOG = logging.getLogger(__name__)

#: Where the journals live (tmpfs: gone, like the devices, after a reboot).
DIRECTORY = "/run/os-vif/plans"


def path(identifier: str) -> str:
    """Return the journal file of the plan ``identifier``."""
    return os.path.join(DIRECTORY, identifier + ".jsonl")


class Journal:
    """The journal of one plan (writes nothing if /run is not ours).

    The file is made at the first record: a plan that records no undo (a
    deletion, a re-plug that repairs nothing undoable) never touches the
    disk -- making and removing the file cost a quarter of a millisecond,
    a tenth of a workload's plug.
    """

    def __init__(self, identifier: str) -> None:
        self.path = path(identifier)
        self._file: Any = None
        self._opened = False

    def _open_file(self) -> None:
        self._opened = True
        try:
            private_directory()
            # Read and written by root only, whatever the daemon's umask;
            # never through a link someone else put there, and never
            # blocking on a FIFO (see _open).
            fd = _open(
                self.path,
                os.O_WRONLY | os.O_CREAT | os.O_APPEND,
            )
            self._file = os.fdopen(fd, "a", buffering=1)
        except OSError as err:
            LOG.warning("No plan journal in %s: %s", DIRECTORY, err)

    def record(self, wire: list[Any]) -> None:
        """Append one undo operation (its wire form)."""
        if not self._opened:
            self._open_file()
        if self._file is not None:
            self._file.write(json.dumps(wire) + "\n")

    def close(self) -> None:
        """The call is over: forget the plan."""
        if self._file is not None:
            self._file.close()
            self._file = None
            remove(self.path)


def _open(name: str, flags: int) -> int:
    """Open the regular file ``name``; raise OSError if it is anything else.

    ``O_NONBLOCK``: opening a FIFO found in its place would otherwise block
    until someone opened its other end, and the daemon, holding its plan
    lock, would hang for good.  Regular files ignore the flag.
    """
    fd = os.open(
        name,
        flags | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK,
        0o600,
    )
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "%s is not a regular file" % name)
    return fd


def remove(path: str) -> None:
    """Remove a journal file; one already gone is fine.

    What cannot be removed (a directory someone put in its place) is
    logged, never raised: the call that made or recovered the plan is over.
    """
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        LOG.warning("Could not remove the plan journal %s: %s", path, err)


def private_directory() -> None:
    """Make :data:`DIRECTORY` (and its parent) the daemon's user's alone.

    A recovered journal is trusted (its undo operations run without
    ownership checks), so nobody else may write where it lives: each level
    is created with its mode (``os.makedirs`` would make the parent with
    the daemon's umask, possibly world-writable), and an existing one that
    is not this user's directory is refused, one open to others narrowed.
    """
    for directory, mode in (
        (os.path.dirname(DIRECTORY), 0o755),
        (DIRECTORY, 0o700),
    ):
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            pass
        found = os.lstat(directory)
        if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.geteuid():
            raise OSError(
                errno.EPERM,
                "%s is not a directory of uid %d" % (directory, os.geteuid()),
            )
        if stat.S_IMODE(found.st_mode) & ~mode:
            os.chmod(directory, mode)


def read(identifier: str) -> list[list[Any]]:
    """Return the journaled undo operations of a plan, oldest first.

    A journal that is not a regular file of the daemon's user, or that
    others may write, is not one the daemon wrote: it is ignored.
    """
    try:
        private_directory()
        fd = _open(path(identifier), os.O_RDONLY)
    except FileNotFoundError:
        return []
    except OSError as err:
        LOG.error("Not reading the journal of plan %s: %s", identifier, err)
        return []
    with os.fdopen(fd) as handle:
        found = os.fstat(handle.fileno())
        if (
            not stat.S_ISREG(found.st_mode)
            or found.st_uid != os.geteuid()
            or found.st_mode & 0o022
        ):
            LOG.error(
                "Not reading the journal of plan %s: not a private file of "
                "uid %d",
                identifier,
                os.geteuid(),
            )
            return []
        lines = handle.read().splitlines()
    undo = []
    for line in lines:
        try:
            undo.append(json.loads(line))
        except (ValueError, RecursionError):
            # The last line of a daemon killed while writing it (nested
            # too deep: not a line of the daemon's either).
            LOG.warning("Skipping a torn journal line of plan %s", identifier)
    return undo
