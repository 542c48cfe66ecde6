"""Attaching a representor to Open vSwitch, through os_vif's OVSDB client."""

from __future__ import annotations

import dataclasses

from os_vif.internal.ovsdb import client, model
from os_vif.plugins.offload import port

__all__ = ["Attached", "OvsAttachment"]


@dataclasses.dataclass(frozen=True)
class Attached:
    """What :meth:`OvsAttachment.attach` created, so a failure can undo it."""

    port_created: bool
    bridge_created: bool


class OvsAttachment:
    """Adds and removes representor ports on one OVSDB."""

    def __init__(self, connection: str, timeout: int) -> None:
        """Use the OVSDB at ``connection`` (shared IDL connection)."""
        self.client = client.OvsdbClient(connection, timeout)

    def attach(self, ifname: str, switch: port.SwitchPort) -> Attached:
        """Put ``ifname`` on ``switch.bridge`` with its external ids.

        The bridge is made if missing (with the profile's datapath type),
        like os-vif's ovs plugin does for its integration bridge.
        """
        bridge_created = not self.client.bridge_exists(switch.bridge)
        port_created = self.client.port_bridge(ifname) is None
        self.client.ensure(
            [model.Bridge(switch.bridge, switch.datapath_type)],
            [
                model.Port(
                    name=ifname,
                    bridge=switch.bridge,
                    external_ids=dict(switch.external_ids),
                )
            ],
        )
        return Attached(port_created, bridge_created)

    def undo(
        self, ifname: str, switch: port.SwitchPort, made: Attached
    ) -> None:
        """Remove what :meth:`attach` created."""
        if made.port_created:
            self.detach(ifname)
        if made.bridge_created:
            self.client.remove_bridge(switch.bridge)

    def detach(self, ifname: str) -> bool:
        """Remove the port ``ifname``; return whether it was there."""
        return self.client.remove([model.PortRemoval(ifname)])

    def detach_vif(self, switch: port.SwitchPort) -> list[str]:
        """Remove the ports carrying this VIF's iface-id and MAC.

        For a representor that can no longer be named (gone from sysfs):
        its port is found by the identity the plug wrote.  Return the
        names of the ports removed.
        """
        ids = switch.external_ids
        if "attached-mac" not in ids:
            # The iface-id alone could match a port another plug owns.
            return []
        names = self.client.ports_of_vif(ids["iface-id"], ids["attached-mac"])
        if names:
            self.client.remove([model.PortRemoval(name) for name in names])
        return names
