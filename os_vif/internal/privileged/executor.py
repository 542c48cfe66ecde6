"""Run a plan in the privileged daemon: validate, admit, apply, undo.

A plan arrives as plain data::

    {"id": "<32 hex digits>", "groups": [[step, ...], ...]}

each step the wire form of a kernel operation
(:meth:`os_vif.internal.operation.Operation.to_wire`).  A group is the
all-or-nothing unit -- one VIF's kernel changes -- so that the plans of
many VIFs run in one call and one bad VIF undoes only itself.
:func:`execute`

1. parses every operation of every group again
   (:func:`os_vif.internal.kernel.parse_plan`: the daemon trusts nothing
   its client sends): a bad step refuses the whole call, with
   :class:`os_vif.exception.InvalidArgument`, before anything runs;
2. per group: *admits* each operation (ownership, see
   :mod:`os_vif.internal.ownership`) before any of them changes anything,
   then applies them in order with the apply functions the family modules
   registered (:mod:`.apply`); each records its undo (more operations) in
   the group's :class:`~.apply.Context` and in the plan's journal
   (:mod:`.journal`);
3. when an operation fails or is refused, the group's undo operations run
   newest first and the group's result is the error; other groups go on.

The result is one entry per group: ``{"changed": [bool...], "undo":
[step...]}`` -- the undo goes back to the client, which runs it should a
later part of the plug (the OVSDB transaction) fail -- or ``{"error":
[class name, message, keyword arguments]}``.

``{"id": ..., "recover": true}`` runs the journal of a plan whose daemon
died mid-call (see :mod:`.journal`); ``{"id": ..., "hello": true}``
answers ``[{"pid": <the daemon's pid>}]``.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Mapping
from typing import Any

from os_vif import exception
from os_vif.internal import kernel
from os_vif.internal.privileged import (
    bridge,
    firewall,
    link,
    netlink,
    sysctl,
    tap,
    veth,
    vf,
    vlan,
    workload,
)
from os_vif.internal.privileged import journal as journal_mod
from os_vif.internal.privileged.apply import Context, apply

__all__ = ["execute", "carry"]

LOG = logging.getLogger(__name__)

# Imported for their side effect: each registers the apply functions of
# its family.  Keep the references so linters see them used.
_FAMILIES = (bridge, firewall, link, sysctl, tap, veth, vf, vlan, workload)

_PLAIN = (str, int, float, bool, type(None))


def carry(err: BaseException) -> list[Any]:
    """Return an exception as plain data: [class name, message, kwargs]."""
    if isinstance(err, exception.ExceptionBase):
        kwargs = {
            key: value if isinstance(value, _PLAIN) else str(value)
            for key, value in err.kwargs.items()
        }
        return [type(err).__name__, err.message, kwargs]
    return [type(err).__name__, str(err), {}]


def _failure(
    op: kernel.KernelOperation, err: Exception
) -> exception.ExceptionBase:
    if isinstance(err, exception.ExceptionBase):
        return err
    return exception.HostOperationFailed(
        operation=op.NAME.replace("_", " "), device=op.device, err=err
    )


def _run_group(
    group: list[kernel.KernelOperation],
    journal: journal_mod.Journal,
    deferred: list[tuple[int, list[int]]] | None = None,
    position: int = 0,
    leaving: set[int] | None = None,
) -> dict[str, Any]:
    ctx = Context(journal)
    if deferred is not None:
        ctx.deferred = []
        ctx.leaving = leaving if leaving is not None else set()
    current: kernel.KernelOperation | None = None
    try:
        for current in group:
            current.admit(ctx)
        changed = []
        for current in group:
            changed.append(apply(current, ctx))
    except Exception as err:
        ctx.rollback()
        assert current is not None
        return {"error": carry(_failure(current, err))}
    if deferred is not None and ctx.deferred:
        deferred.append((position, ctx.deferred))
        ctx.leaving.update(ctx.deferred)
    return {"changed": changed, "undo": [u.to_wire() for u in ctx.undo_log]}


def _deletes_only(groups: list[list[kernel.KernelOperation]]) -> bool:
    """Whether no operation of the call creates a device.

    Only then are deletions batched: no name a deletion frees can be
    wanted again later in the same call.
    """
    return all(
        not op.NAME.startswith("ensure_") for group in groups for op in group
    )


def _delete_deferred(
    deferred: list[tuple[int, list[int]]], results: list[dict[str, Any]]
) -> None:
    """Delete every collected link together: one link group, one request.

    Each link is put in a link group of its own for this call, then the
    group is deleted with one RTM_DELLINK, which costs one RCU grace period
    for all (one at a time costs one each).  Should that fail, each link
    is deleted on its own, and a group whose link cannot be deleted gets
    the error.
    """
    if not deferred:
        return
    # Not 0 (the default group), and unlikely to be anyone else's.
    group = random.randint(1 << 24, (1 << 31) - 1)
    every = [index for _position, indexes in deferred for index in indexes]
    try:
        netlink.set_group(every, group)
        netlink.delete_group(group, every)
        return
    except Exception as err:  # noqa: BLE001 - each link, then, on its own
        LOG.warning("Batched deletion failed (%s); one by one", err)
    with netlink.links() as requests:
        for position, indexes in deferred:
            for index in indexes:
                try:
                    requests.delete(index)
                except Exception as err:  # noqa: BLE001 - per group
                    results[position] = {
                        "error": carry(
                            exception.HostOperationFailed(
                                operation="delete_device",
                                device="ifindex %d" % index,
                                err=str(err),
                            )
                        )
                    }
                    break


def _recover(identifier: str) -> dict[str, Any]:
    ctx = Context(None, trusted=True)
    for step in journal_mod.read(identifier):
        try:
            undo = kernel.REGISTRY.from_wire(step)
        except exception.InvalidArgument as err:
            LOG.warning("Skipping journal entry %r: %s", step, err)
            continue
        assert isinstance(undo, kernel.KernelOperation)
        ctx.undo_log.append(undo)
    undone = len(ctx.undo_log)
    ctx.rollback()
    journal_mod.remove(journal_mod.path(identifier))
    return {"changed": [bool(undone)], "undo": []}


# The daemon serves requests from a thread pool, and one netlink socket is
# shared by all of them: plans run one at a time.  A plan takes a few
# milliseconds, so this costs nothing in practice and keeps every plan
# atomic with respect to the others (no interleaved check-then-create).
_PLAN_LOCK = threading.Lock()


def execute(plan: Any) -> list[dict[str, Any]]:
    """Validate and run ``plan``; return one result per group (see module)."""
    identifier, groups, recover = kernel.parse_plan(plan)
    if isinstance(plan, Mapping) and plan.get("hello") is True:
        # The client learns which process to kill should a call hang.
        return [{"pid": os.getpid()}]
    with _PLAN_LOCK:
        if recover:
            return [_recover(identifier)]
        journal = journal_mod.Journal(identifier)
        try:
            # Asked for by the caller for a batch of many VIFs (a single
            # unplug, or a hand-made plan, deletes as it goes).
            batched = plan.get("batch_deletions") is True
            deferred: list[tuple[int, list[int]]] | None = (
                [] if batched and _deletes_only(groups) else None
            )
            leaving: set[int] = set()
            results = [
                _run_group(group, journal, deferred, position, leaving)
                for position, group in enumerate(groups)
            ]
            if deferred:
                _delete_deferred(deferred, results)
            return results
        finally:
            journal.close()
