"""Persistent taps: EnsureTap."""

from __future__ import annotations

from typing import Any

from os_vif.internal import linkstate, ownership, validation
from os_vif.internal.kernel import link as link_family
from os_vif.internal.kernel import sysctl
from os_vif.internal.kernel.base import (
    DEVICE_PARAMS,
    REGISTRY,
    KernelOperation,
    params,
)
from os_vif.internal.operation import Problem

__all__ = ["EnsureTap", "admit_own"]


def admit_own(
    scope: ownership.Scope, name: str, kind: str, vif_id: str | None
) -> None:
    """An existing ``name`` must be of ``kind`` and os_vif's."""
    link = linkstate.read_link(name)
    if link is not None:
        ownership.require_kind(link, kind, "create a %s" % kind)
        ownership.require_owned(scope, link, "change", vif_id)


@REGISTRY.register
class EnsureTap(KernelOperation):
    """Persistent tap ``name`` exists, optionally attached to ``master``.

    With ``disable_ipv6`` IPv6 is turned off before the tap comes up: a
    tap given the guest's MAC would otherwise get the guest's own
    link-local address and send its duplicate address detection into the
    guest, whose own detection then fails (seen during live migration with
    OVN); the host needs no address on it.
    """

    NAME = "ensure_tap"
    PARAMS = params(
        DEVICE_PARAMS,
        multiqueue=validation.boolean,
        disable_ipv6=validation.boolean,
    )

    def wanted(self) -> dict[str, Any]:
        """The link attributes :func:`.link.differences` compares."""
        return {
            "mtu": self.get("mtu"),
            "mac": self.get("mac"),
            "up": self.get("up", True),
            "master": self.get("master"),
        }

    def admit(self, scope: ownership.Scope) -> None:
        """An existing device must be a tap os_vif owns."""
        admit_own(scope, self.device, "tun", self.get("vif_id"))

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the tap (and its IPv6 sysctl) with what is asked."""
        found = link_family.problems(
            self.device,
            linkstate.read_link(self.device),
            "tun",
            **self.wanted(),
        )
        if not found and self.get("disable_ipv6", False):
            found += sysctl.ipv6_problems(self.device)
        return found
