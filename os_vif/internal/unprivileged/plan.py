"""A plan: the host operations of one VIF, over the kernel and OVSDB.

Plugins build plans (pure functions of the VIF, the options and what
discovery found) and hand them to a :class:`~.runner.HostRunner`.  The
operations of each domain run in their order; ``ovsdb_first`` says which
domain goes first (an unplug removes the port before its device, so that
ovs-vswitchd lets go of it); a plug makes the devices first, then commits
the ports (ovs-vswitchd, opening a device being set up, could write back
flags it read before).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from os_vif.internal import operation

__all__ = ["Plan"]


@dataclasses.dataclass
class Plan:
    """The host operations of one VIF (see the module)."""

    steps: list[operation.Operation] = dataclasses.field(default_factory=list)
    #: The VIF, for messages.
    label: str = ""
    #: Run the OVSDB operations before the kernel ones (unplug).
    ovsdb_first: bool = False

    @property
    def kernel(self) -> list[Any]:
        """The kernel operations, in order."""
        return [s for s in self.steps if s.DOMAIN == operation.KERNEL]

    @property
    def ovsdb(self) -> list[Any]:
        """The OVSDB operations, in order."""
        return [s for s in self.steps if s.DOMAIN == operation.OVSDB]

    def add(self, *steps: operation.Operation) -> Plan:
        """Append ``steps``; return the plan."""
        self.steps.extend(steps)
        return self

    def to_wire(self) -> list[list[Any]]:
        """The plain-data form of every step, in order."""
        return [step.to_wire() for step in self.steps]
