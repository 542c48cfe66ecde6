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

import json
import logging
import os
import re
from typing import Any

__all__ = ["DIRECTORY", "Journal", "path", "read", "remove", "plan_id"]

LOG = logging.getLogger(__name__)

#: Where the journals live (tmpfs: gone, like the devices, after a reboot).
DIRECTORY = "/run/os-vif/plans"

_ID = re.compile(r"^[0-9a-f]{32}$")


def plan_id(value: Any, field: str = "plan.id") -> str:
    """Return ``value`` if it is a plan id (32 hex digits, uuid4().hex)."""
    from os_vif.internal.operation import invalid

    if not isinstance(value, str) or not _ID.match(value):
        raise invalid(field, value, "a plan id is 32 hex digits")
    return value


def path(identifier: str) -> str:
    """Return the journal file of the plan ``identifier``."""
    return os.path.join(DIRECTORY, identifier + ".jsonl")


class Journal:
    """The open journal of one plan (writes nothing if /run is not ours)."""

    def __init__(self, identifier: str) -> None:
        self.path = path(identifier)
        self._file: Any = None
        try:
            os.makedirs(DIRECTORY, mode=0o700, exist_ok=True)
            self._file = open(self.path, "a", buffering=1)  # noqa: SIM115
        except OSError as err:
            LOG.warning("No plan journal in %s: %s", DIRECTORY, err)

    def record(self, wire: list[Any]) -> None:
        """Append one undo operation (its wire form)."""
        if self._file is not None:
            self._file.write(json.dumps(wire) + "\n")

    def close(self) -> None:
        """The call is over: forget the plan."""
        if self._file is not None:
            self._file.close()
            self._file = None
            remove(self.path)


def remove(path: str) -> None:
    """Remove a journal file; one already gone is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def read(identifier: str) -> list[list[Any]]:
    """Return the journaled undo operations of a plan, oldest first."""
    try:
        with open(path(identifier)) as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return []
    undo = []
    for line in lines:
        try:
            undo.append(json.loads(line))
        except ValueError:
            # The last line of a daemon killed while writing it.
            LOG.warning("Skipping a torn journal line of plan %s", identifier)
    return undo
