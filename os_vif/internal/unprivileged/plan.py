"""A plan: the host operations of one VIF, over the kernel and OVSDB.

Plugins build plans (pure functions of the VIF, the options and what
discovery found) and hand them to a :class:`~.runner.HostRunner`.  The
operations of each domain run in their order; which domain goes first is
not the plan's to say but the caller's (:class:`~.runner.Order`: a plug
makes the devices first, an unplug removes the ports first).
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
