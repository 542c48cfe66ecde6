"""The registry of privileged host operations and the plan executor.

A *plan* is a list of steps, each ``[operation name, {argument: value}]``,
made only of strings, numbers, booleans and ``None`` so that it crosses the
privsep socket unchanged.  :func:`execute` runs a whole plan inside the
privileged daemon in one call:

1. every step is validated before anything is done (unknown operation,
   unknown or missing argument, bad value: :class:`InvalidArgument`);
2. the steps run in order; each one records how to undo what it changed;
3. if a step fails, the recorded undo actions run in reverse order, so the
   host is left as it was, and the error is raised as
   :class:`HostOperationFailed` (or the os_vif exception the step raised).

Operations register themselves with :func:`operation`; the modules that
define them (:mod:`os_vif.internal.netdev`, :mod:`os_vif.internal.firewall`)
are imported by :mod:`os_vif.internal.privsep` before any plan runs.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from os_vif import exception

__all__ = [
    "Validator",
    "Operation",
    "Transaction",
    "OPERATIONS",
    "operation",
    "validate_plan",
    "execute",
]

LOG = logging.getLogger(__name__)

#: ``validator(value, field) -> canonical value``; raises InvalidArgument.
Validator = Callable[[Any, str], Any]


@dataclasses.dataclass(frozen=True)
class Operation:
    """One privileged operation: its arguments and its implementation.

    ``run(transaction, **arguments)`` makes the change, registers its undo
    actions on the transaction and returns whether it changed anything.
    ``device`` names the argument that identifies the device acted upon,
    for error messages.
    """

    name: str
    params: Mapping[str, Validator]
    required: frozenset[str]
    run: Callable[..., bool]
    device: str = "name"


#: Every known operation, by name.
OPERATIONS: dict[str, Operation] = {}


def operation(
    name: str,
    params: Mapping[str, Validator],
    required: Sequence[str] = ("name",),
    device: str = "name",
) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    """Register the decorated function as the operation ``name``."""

    def register(func: Callable[..., bool]) -> Callable[..., bool]:
        if name in OPERATIONS:
            raise AssertionError("operation %s registered twice" % name)
        OPERATIONS[name] = Operation(
            name=name,
            params=dict(params),
            required=frozenset(required),
            run=func,
            device=device,
        )
        return func

    return register


class Transaction:
    """The undo log of a plan being executed."""

    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[[], Any]]] = []

    def on_undo(self, description: str, action: Callable[[], Any]) -> None:
        """Register ``action`` to run if a later step of the plan fails."""
        self._undo.append((description, action))

    def rollback(self) -> None:
        """Run the undo actions, newest first; log (not raise) failures.

        A failing undo must not hide the error that caused the rollback,
        nor stop the remaining undo actions.
        """
        while self._undo:
            description, action = self._undo.pop()
            try:
                action()
            except Exception as err:
                LOG.warning("Could not undo %s: %s", description, err)


def _invalid(field: str, value: Any, reason: str) -> exception.InvalidArgument:
    return exception.InvalidArgument(field=field, value=value, reason=reason)


def validate_step(step: Any) -> tuple[Operation, dict[str, Any]]:
    """Return the operation and canonical arguments of one plan step."""
    if not isinstance(step, (list, tuple)) or len(step) != 2:
        raise _invalid("step", step, "a step is [operation, arguments]")
    name, arguments = step
    op = OPERATIONS.get(name) if isinstance(name, str) else None
    if op is None:
        raise _invalid("operation", name, "no such host operation")
    if not isinstance(arguments, Mapping):
        raise _invalid(name, arguments, "arguments must be a mapping")
    canonical: dict[str, Any] = {}
    for key, value in arguments.items():
        validator = op.params.get(key) if isinstance(key, str) else None
        if validator is None:
            raise _invalid(
                "%s argument" % name, key, "%s takes no such argument" % name
            )
        canonical[key] = validator(value, "%s.%s" % (name, key))
    missing = sorted(op.required - canonical.keys())
    if missing:
        raise _invalid(
            "%s.%s" % (name, missing[0]), None, "this argument is required"
        )
    return op, canonical


def validate_plan(plan: Any) -> list[tuple[Operation, dict[str, Any]]]:
    """Validate every step of ``plan``; raise on the first bad one."""
    if not isinstance(plan, (list, tuple)):
        raise _invalid("plan", plan, "a plan is a list of steps")
    return [validate_step(step) for step in plan]


# The daemon serves requests from a thread pool, and one netlink socket is
# shared by all of them: plans run one at a time.  A plan takes a few
# milliseconds, so this costs nothing in practice and keeps every plan
# atomic with respect to the others (no interleaved check-then-create).
_PLAN_LOCK = threading.Lock()


def execute(plan: Any) -> list[bool]:
    """Validate and run ``plan``; return, per step, whether it changed.

    On failure every change made by the plan is undone before raising.
    """
    steps = validate_plan(plan)
    results: list[bool] = []
    with _PLAN_LOCK:
        transaction = Transaction()
        for op, arguments in steps:
            try:
                results.append(bool(op.run(transaction, **arguments)))
            except exception.ExceptionBase:
                transaction.rollback()
                raise
            except Exception as err:
                transaction.rollback()
                raise exception.HostOperationFailed(
                    operation=op.name.replace("_", " "),
                    device=arguments.get(op.device),
                    err=err,
                ) from err
    return results
