"""Linux bridges: EnsureBridge, RemoveBridgeIfUnused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from os_vif.internal import linkstate, ownership, validation
from os_vif.internal.kernel import link as link_family
from os_vif.internal.kernel import sysctl
from os_vif.internal.kernel.base import (
    DEVICE_PARAMS,
    OWNER_PARAMS,
    REGISTRY,
    KernelOperation,
    params,
)
from os_vif.internal.operation import Problem

__all__ = ["EnsureBridge", "RemoveBridgeIfUnused", "unused_bridge"]


def _ageing(value: Any, field: str) -> int:
    # IFLA_BR_AGEING_TIME, in hundredths of a second; 0 turns ageing off.
    return validation.integer_in_range(value, 0, 2**31 - 1, field)


@REGISTRY.register
class EnsureBridge(KernelOperation):
    """Bridge ``name`` exists, set up as asked.

    A new bridge has STP off and forward delay 0, so that a guest's port
    forwards at once; an existing one keeps its STP settings.  ``ageing``
    (hundredths of a second, 0: never forget a MAC) and
    ``multicast_snooping`` are set when the bridge is made, as os-vif 5.x
    made its hybrid ``qbr``: a bridge that forgets no MAC and floods
    multicast loses nothing while a guest moves (live migration).  With
    ``role="bridge"`` (a bridge a network names) an existing bridge os_vif
    does not own may be set up and used; otherwise (``owned``, a VIF's own
    bridge such as ``qbr``) it must be os_vif's.
    """

    NAME = "ensure_bridge"
    # The Linux bridge of a network: every VIF on it names it.
    SHARED = True
    PARAMS = params(
        DEVICE_PARAMS,
        disable_ipv6=validation.boolean,
        role=validation.role(("owned", "bridge")),
        ageing=_ageing,
        multicast_snooping=validation.boolean,
        drop=("master",),
    )

    @property
    def shared(self) -> bool:
        """Only a network's bridge: a VIF's own (``qbr``) is its plan's."""
        return self.get("role") == "bridge"

    def wanted(self) -> dict[str, Any]:
        """The link attributes :func:`.link.differences` compares."""
        return {
            "mtu": self.get("mtu"),
            "mac": self.get("mac"),
            "up": self.get("up", True),
        }

    def creation_data(self) -> tuple[tuple[str, int], ...]:
        """The ``IFLA_BR_*`` attributes a new bridge is made with."""
        data: tuple[tuple[str, int], ...] = (
            ("IFLA_BR_STP_STATE", 0),
            ("IFLA_BR_FORWARD_DELAY", 0),
        )
        if self.get("ageing") is not None:
            data += (("IFLA_BR_AGEING_TIME", self.get("ageing")),)
        if self.get("multicast_snooping") is not None:
            data += (
                (
                    "IFLA_BR_MCAST_SNOOPING",
                    int(self.get("multicast_snooping")),
                ),
            )
        return data

    def admit(self, scope: ownership.Scope) -> None:
        """An existing device must be a bridge (and os_vif's if owned)."""
        link = linkstate.read_link(self.device)
        if link is None:
            return
        ownership.require_kind(link, "bridge", "use as a bridge")
        if self.get("role", "owned") == "owned":
            ownership.require_owned(scope, link, "change", self.get("vif_id"))
        elif self.get("mac") is not None:
            ownership.require_owned(scope, link, "set the MAC of", None)

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """Compare the bridge (and its IPv6 sysctl) with what is asked."""
        name = self.device
        found = link_family.problems(
            name, linkstate.read_link(name), "bridge", **self.wanted()
        )
        if not found and self.get("disable_ipv6", False):
            found += sysctl.ipv6_problems(name)
        return found


def unused_bridge(
    scope: ownership.Scope,
    link: linkstate.Link | None,
    vif_id: str | None,
    uplinks: tuple[str, ...],
    leaving: Callable[[int], bool] = lambda _index: False,
) -> list[int] | None:
    """The links to delete with bridge ``link``, or None if it stays.

    The bridge goes when os_vif owns it (by any rule of
    :func:`.ownership.owner_rule`: marked, or the ``qbr`` os-vif 5.x made
    for ``vif_id``) and its only ports, apart from those ``leaving`` (being
    deleted by the same call), are among ``uplinks``.  The result is the
    bridge's index, then those of the uplinks os_vif made (marked).
    """
    if link is None or link.kind != "bridge":
        return None
    if ownership.owner_rule(scope, link, vif_id) is None:
        return None
    if _witness_stays(link.index, uplinks, leaving):
        return None
    ports = [
        port for port in linkstate.ports_of(link.index)
        if not leaving(port.index)
    ]
    users = [port for port in ports if port.name not in uplinks]
    if users:
        # The newest port: in a batch that unplugs a bridge's VIFs in the
        # order they were plugged, the last to leave.
        if len(_WITNESS) >= _WITNESSES:
            # Bridges come and go (a hybrid VIF's qbr): forget them all.
            _WITNESS.clear()
        _WITNESS[link.index] = max(port.index for port in users)
        return None
    _WITNESS.pop(link.index, None)
    return [link.index] + [
        port.index for port in ports if port.alias == ownership.OS_VIF_ALIAS
    ]


#: Bridge index -> the index of a port that used it when last looked at.
#: One batch unplugs hundreds of VIFs of one bridge, and each asks whether
#: the bridge is unused: while that port is still on it (one read of one
#: link) it is, without the dump of every port (which costs about 4 ms
#: for 200, and would be made for each of them).
_WITNESS: dict[int, int] = {}
#: How many bridges :data:`_WITNESS` remembers at most.
_WITNESSES = 1024


def _witness_stays(
    bridge: int, uplinks: tuple[str, ...], leaving: Callable[[int], bool]
) -> bool:
    """Whether the bridge's last seen user is still on it (live read)."""
    index = _WITNESS.get(bridge)
    if index is None or leaving(index):
        return False
    port = linkstate.read_link(index=index)
    return (
        port is not None
        and port.master_index == bridge
        and port.name not in uplinks
    )


@REGISTRY.register
class RemoveBridgeIfUnused(KernelOperation):
    """Delete bridge ``name`` if os_vif made it and nothing uses it.

    "Nothing uses it": its only ports are among ``uplinks`` (the physical
    or VLAN interface that connects it to the network).  The uplinks that
    os_vif created (VLAN devices) are deleted with it; the others are just
    released by the bridge's deletion.  A bridge os_vif did not make, or
    one something else is on, is left as it is (see :func:`unused_bridge`).
    """

    NAME = "remove_bridge_if_unused"
    PARAMS = params(
        OWNER_PARAMS,
        name=validation.interface_name,
        uplinks=validation.interface_names,
    )

    def doomed(
        self,
        scope: ownership.Scope,
        leaving: Callable[[int], bool] = lambda _index: False,
    ) -> list[int] | None:
        """:func:`unused_bridge` of this operation's bridge."""
        return unused_bridge(
            scope,
            linkstate.read_link(self.device),
            self.get("vif_id"),
            tuple(self.get("uplinks", ())),
            leaving,
        )

    def check(self, ovsdb: Any = None) -> list[Problem]:
        """An os_vif bridge with nothing but its uplinks should be gone."""
        if self.doomed(ownership.Scope()) is None:
            return []
        return [Problem("device %s" % self.device, "exists", False, True)]
