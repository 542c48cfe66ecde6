"""What every kernel operation shares: its base class, registry, wire plan.

A kernel operation is data both sides of the privsep boundary know: the
caller builds it, checks it against the host and admits it early; the
daemon parses it again from its wire form (:func:`parse_plan`), admits it
again and applies it (:mod:`os_vif.internal.privileged`, which registers
an apply function per operation class).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from os_vif.internal import operation, ownership, validation
from os_vif.internal.operation import Problem, Validator

__all__ = [
    "REGISTRY",
    "KernelOperation",
    "Scope",
    "parse_plan",
    "plan_id",
    "params",
    "LINK_PARAMS",
    "OWNER_PARAMS",
    "DEVICE_PARAMS",
]

#: The kernel operations the daemon serves, by wire name.
REGISTRY = operation.Registry(operation.KERNEL)

#: What admission judges ownership against (see :mod:`..ownership`).
Scope = ownership.Scope

#: The link attributes most operations set; None: leave alone.
LINK_PARAMS: dict[str, Validator] = {
    "mtu": validation.optional_mtu,
    "mac": validation.optional_mac_address,
    "up": validation.optional_boolean,
    "master": validation.optional_interface_name,
}
#: The ownership proof of a device os-vif 5.x made (see ownership).
OWNER_PARAMS: dict[str, Validator] = {"vif_id": validation.vif_id}
#: A VIF's device: its name, its link attributes, the ownership proof.
DEVICE_PARAMS: dict[str, Validator] = {
    "name": validation.interface_name,
    **LINK_PARAMS,
    **OWNER_PARAMS,
}

_ID = re.compile(r"^[0-9a-f]{32}$")


def params(
    *bases: Mapping[str, Validator],
    drop: tuple[str, ...] = (),
    **more: Validator,
) -> dict[str, Validator]:
    """Return an operation's PARAMS: ``bases`` merged, ``more`` added."""
    merged: dict[str, Validator] = {}
    for base in bases:
        merged.update(base)
    merged.update(more)
    for key in drop:
        del merged[key]
    return merged


class KernelOperation(operation.Operation):
    """A kernel operation: checked and admitted by both sides.

    Its apply function is the daemon's alone: it is registered in
    :mod:`os_vif.internal.privileged` against this class.
    """

    DOMAIN = operation.KERNEL

    def admit(self, scope: ownership.Scope) -> None:
        """Raise HostOperationRefused if this may not touch what it names.

        Reads only.  The caller runs it with an empty scope before it
        sends a plan; the daemon runs it for every operation of a group
        before any is applied, so a refusal leaves the host unchanged.
        """

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """See :meth:`os_vif.internal.operation.Operation.check`."""
        raise NotImplementedError


def plan_id(value: Any, field: str = "plan.id") -> str:
    """Return ``value`` if it is a plan id (32 hex digits, uuid4().hex)."""
    if not isinstance(value, str) or not _ID.match(value):
        raise operation.invalid(field, value, "a plan id is 32 hex digits")
    return value


def parse_plan(
    plan: Any,
) -> tuple[str, list[list[KernelOperation]], bool]:
    """Return (id, groups of operations, recover?) of a wire plan.

    Every step is made again from its wire form, so validated again; a bad
    one raises InvalidArgument naming it before anything runs.
    """
    if not isinstance(plan, Mapping):
        raise operation.invalid("plan", plan, "a plan is a mapping")
    identifier = plan_id(plan.get("id"))
    if plan.get("recover") is True:
        return identifier, [], True
    if plan.get("hello") is True:
        return identifier, [], False
    groups = plan.get("groups")
    if not isinstance(groups, (list, tuple)):
        raise operation.invalid("plan.groups", groups, "must be a list")
    parsed = []
    for group in groups:
        if not isinstance(group, (list, tuple)):
            raise operation.invalid("plan.group", group, "must be a list")
        ops = []
        for step in group:
            op = REGISTRY.from_wire(step)
            assert isinstance(op, KernelOperation)
            ops.append(op)
        parsed.append(ops)
    return identifier, parsed, False
