"""How the daemon applies a kernel operation: the Context and the table.

Each privileged family module registers, with :func:`applies`, the
function that applies one operation class of :mod:`os_vif.internal.kernel`
(``apply(op, ctx) -> changed``).  :func:`apply` runs it; the executor runs
a group's operations through it, and the undo through it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from os_vif import exception
from os_vif.internal import kernel, linkstate, ownership
from os_vif.internal.privileged import journal as journal_mod

__all__ = ["Context", "applies", "apply", "require_link"]

LOG = logging.getLogger(__name__)

_Op = TypeVar("_Op", bound=kernel.KernelOperation)
Applier = Callable[[Any, "Context"], bool]
_Applies = Callable[[_Op, "Context"], bool]

#: Wire name -> the function that applies that operation in the daemon.
APPLY: dict[str, Applier] = {}


def applies(cls: type[_Op]) -> Callable[[_Applies[_Op]], _Applies[_Op]]:
    """Decorator: the function applies operations of ``cls``."""

    def register(function: _Applies[_Op]) -> _Applies[_Op]:
        if cls.NAME in APPLY:
            raise AssertionError("%s applied twice" % cls.NAME)
        APPLY[cls.NAME] = function
        return function

    return register


def apply(op: kernel.KernelOperation, ctx: Context) -> bool:
    """Apply ``op``: make the change, record its undo, say if it changed."""
    function = APPLY.get(op.NAME)
    if function is None:
        # A class the daemon parses but cannot apply: a programming error,
        # refused before anything changes (admission already ran).
        raise exception.HostOperationFailed(
            operation=op.NAME, device=op.device, err="not applied here"
        )
    return bool(function(op, ctx))


def require_link(name: str) -> linkstate.Link:
    """Return the device ``name``; raise NetworkInterfaceNotFound if none."""
    link = linkstate.read_link(name)
    if link is None:
        raise exception.NetworkInterfaceNotFound(interface=name)
    return link


class Context(ownership.Scope):
    """What one group of a plan shares while it runs in the daemon.

    The ownership scope (the devices this plan created, whether the run
    is the daemon's own journal) plus the undo log, the journal and the
    call's batched deletions.
    """

    def __init__(
        self, journal: journal_mod.Journal | None, trusted: bool = False
    ) -> None:
        super().__init__(created={}, trusted=trusted)
        self.journal = journal
        self.undo_log: list[kernel.KernelOperation] = []
        #: When not None, deletions are collected here (link indexes) and
        #: made together after the call's last group.
        self.deferred: list[int] | None = None
        #: Links earlier groups of the call collected for deletion.
        self.leaving: set[int] = set()

    def is_leaving(self, index: int) -> bool:
        """Whether link ``index`` is collected for deletion in this call."""
        return index in self.leaving or index in (self.deferred or ())

    def delete_later(self, index: int) -> bool:
        """Collect link ``index`` for the call's batched deletion.

        False when this context deletes at once (an undo, or a call that
        also creates devices).
        """
        if self.deferred is None or self.trusted:
            return False
        self.deferred.append(index)
        return True

    def record_undo(self, undo: kernel.KernelOperation) -> None:
        """Remember ``undo`` -- before the change it takes back is made.

        While undoing, nothing is recorded: an undo is not undone.
        """
        if self.trusted:
            return
        if self.journal is not None:
            self.journal.record(undo.to_wire())
        self.undo_log.append(undo)

    def creating(self, name: str, kind: str) -> None:
        """Say that ``name`` (of ``kind``) is about to be created."""
        self.created[name] = kind
        self.record_undo(kernel.DeleteDevice(name=name, kind=kind))

    def rollback(self) -> None:
        """Run the undo operations, newest first; log (not raise) failures.

        A failing undo must not hide the error that caused the rollback,
        nor stop the remaining undo operations.
        """
        self.trusted = True
        while self.undo_log:
            undo = self.undo_log.pop()
            try:
                apply(undo, self)
            except Exception as err:
                LOG.warning("Could not undo with %r: %s", undo, err)
