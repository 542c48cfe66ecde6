"""802.1Q devices: EnsureVlan."""

from __future__ import annotations

from typing import Any

from os_vif.internal import linkstate, ownership, validation
from os_vif.internal.kernel import link as link_family
from os_vif.internal.kernel.base import (
    LINK_PARAMS,
    REGISTRY,
    KernelOperation,
    params,
)
from os_vif.internal.operation import Problem

__all__ = ["EnsureVlan"]


@REGISTRY.register
class EnsureVlan(KernelOperation):
    """The 802.1Q device ``name`` for ``vlan`` exists on ``link``.

    An existing VLAN device os_vif does not own (an operator's, or one
    os-vif 5.x made) is used as an uplink: brought up and attached to
    ``master``, its MTU left alone.
    """

    NAME = "ensure_vlan"
    PARAMS = params(
        LINK_PARAMS,
        name=validation.interface_name,
        link=validation.interface_name,
        vlan=validation.vlan_id,
        drop=("mac",),
    )
    REQUIRED = frozenset({"name", "link", "vlan"})

    def owned(self, scope: ownership.Scope, device: linkstate.Link) -> bool:
        """Whether os_vif owns ``device`` (else it is only an uplink)."""
        return ownership.owner_rule(scope, device, None) is not None

    def wanted(self, owned: bool) -> dict[str, Any]:
        """The attributes :func:`.link.differences` compares.

        The MTU only of a device os_vif owns: an uplink's is its owner's.
        """
        return {
            "mtu": self.get("mtu") if owned else None,
            "up": self.get("up", True),
            "master": self.get("master"),
        }

    def admit(self, scope: ownership.Scope) -> None:
        """An existing device must be a VLAN device for this VLAN."""
        device = linkstate.read_link(self.device)
        if device is None:
            return
        ownership.require_kind(device, "vlan", "create a vlan")
        if device.vlan_id not in (None, self.get("vlan")):
            raise ownership.refuse(
                "use",
                self.device,
                "it is the VLAN device of VLAN %s, not %s"
                % (device.vlan_id, self.get("vlan")),
            )

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the VLAN device with what is asked."""
        device = linkstate.read_link(self.device)
        owned = device is not None and self.owned(ownership.Scope(), device)
        return link_family.problems(
            self.device, device, "vlan", **self.wanted(owned)
        )
