"""veth pairs: EnsureVeth."""

from __future__ import annotations

from typing import Any

from os_vif import exception
from os_vif.internal import linkstate, ownership, validation
from os_vif.internal.kernel import link as link_family
from os_vif.internal.kernel.base import (
    DEVICE_PARAMS,
    REGISTRY,
    KernelOperation,
    params,
)
from os_vif.internal.kernel.tap import admit_own
from os_vif.internal.operation import Problem

__all__ = ["EnsureVeth"]


@REGISTRY.register
class EnsureVeth(KernelOperation):
    """The veth pair ``name``/``peer`` exists, ``name`` on ``master``.

    Both ends get the MTU and state.  If only one end exists it is a
    leftover of an interrupted plug: it is deleted (if os_vif's) and the
    pair made again.  With ``promisc`` both ends of a new pair are made
    promiscuous, as os-vif 5.x made the hybrid plug's ``qvb``/``qvo``.
    """

    NAME = "ensure_veth"
    PARAMS = params(
        DEVICE_PARAMS,
        peer=validation.interface_name,
        promisc=validation.boolean,
        drop=("mac",),
    )
    REQUIRED = frozenset({"name", "peer"})

    def __init__(self, /, **arguments: Any) -> None:
        """Validate; the peer and the master must differ from the name."""
        super().__init__(**arguments)
        name, peer, master = self.device, self.get("peer"), self.get("master")
        if name == peer:
            raise exception.InvalidArgument(
                field="ensure_veth.peer", value=peer, reason="equals name"
            )
        if master is not None and master in (name, peer):
            raise exception.InvalidArgument(
                field="ensure_veth.master",
                value=master,
                reason="is a veth end",
            )

    def wanted(self, end: str) -> dict[str, Any]:
        """The attributes :func:`.link.differences` compares, per end.

        Both ends get the MTU and state; only ``name`` goes on ``master``.
        """
        found: dict[str, Any] = {
            "mtu": self.get("mtu"),
            "up": self.get("up", True),
        }
        if end == self.device:
            found["master"] = self.get("master")
        return found

    def admit(self, scope: ownership.Scope) -> None:
        """Existing ends must be veths os_vif owns."""
        for end in (self.device, self.get("peer")):
            admit_own(scope, end, "veth", self.get("vif_id"))

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare both ends with what is asked."""
        found: list[Problem] = []
        for end in (self.device, self.get("peer")):
            found += link_family.problems(
                end, linkstate.read_link(end), "veth", **self.wanted(end)
            )
        return found
