"""Run a collection: what leaked, grouped by VIF, removed in one batch.

A plugin's ``collect`` module finds what it owns that no VIF of ``keep``
needs and makes one :class:`Leak` per VIF it belonged to (the removals and
the plan of operations that removes them).  :func:`remove` runs every plan
in one batch of the plugin's :class:`~os_vif.internal.unprivileged.runner.
HostRunner` -- one privileged call, one OVSDB transaction; the daemon
enforces ownership again -- so that a failure fails that VIF's removals
only, and the others go on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from os_vif import host_state
from os_vif.internal import linkstate, operation
from os_vif.internal.ovsdb import client as ovsdb_client
from os_vif.internal.unprivileged import runner
from os_vif.internal.unprivileged.plan import Plan

__all__ = ["Leak", "device_removal", "remove"]


@dataclasses.dataclass
class Leak:
    """What is left of one VIF: its removals and the operations to do them."""

    label: str
    removals: list[host_state.Removal] = dataclasses.field(
        default_factory=list
    )
    steps: list[operation.Operation] = dataclasses.field(default_factory=list)

    def add(
        self, removal: host_state.Removal, *steps: operation.Operation
    ) -> None:
        """Record ``removal``, done by ``steps``."""
        self.removals.append(removal)
        self.steps.extend(steps)


def device_removal(name: str, kind: str, reason: str) -> host_state.Removal:
    """The removal of the kernel device ``name`` (of ``kind``), and why."""
    return host_state.Removal(
        what="device %s" % name, kind=kind, reason=reason
    )


def remove(
    host: runner.HostRunner,
    leaks: Sequence[Leak],
    dry_run: bool,
    ovsdb: ovsdb_client.OvsdbClient | None = None,
    links: linkstate.LinkTable | None = None,
) -> host_state.PluginCollection:
    """Remove ``leaks`` (or, with ``dry_run``, list them).

    ``links`` is the dump the leaks were found in: the batch's check reads
    it rather than asking the kernel for each device again.
    """
    if dry_run or not leaks:
        return host_state.PluginCollection(
            removals=tuple(r for leak in leaks for r in leak.removals)
        )
    # The OVSDB ports go first (ovs-vswitchd lets go of their devices),
    # or, for many leaks, at the same time as the devices; within a plan
    # the bridges go last.
    plans = [Plan(steps=list(leak.steps), label=leak.label) for leak in leaks]
    results: Sequence[Exception | None]
    try:
        outcomes = host.run_many(
            plans, ovsdb, order=runner.Order.TOGETHER, links=links
        )
    except Exception as err:  # the batch as a whole: every removal failed
        results = [err] * len(plans)
    else:
        results = [outcome.error for outcome in outcomes]
    removals = []
    for leak, error in zip(leaks, results, strict=True):
        for removal in leak.removals:
            removals.append(
                removal
                if error is None
                else dataclasses.replace(removal, error=error)
            )
    return host_state.PluginCollection(removals=tuple(removals))
