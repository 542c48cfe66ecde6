"""The OVS ports os_vif plugged for a VIF, read from the IDL cache.

A port is os_vif's when its Interface's ``external_ids`` carry what a plug
writes for a VIF: ``iface-id``, ``attached-mac`` and ``vm-uuid``.  Neutron's
patch ports, bridges' internal ports and anything else without those ids
are never listed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from os_vif.internal.ovsdb import client

__all__ = ["VifPort", "VIF_IDS", "vif_ports"]

#: The external_ids a plug writes on a VIF's Interface (all three needed).
VIF_IDS = ("iface-id", "attached-mac", "vm-uuid")


@dataclasses.dataclass(frozen=True)
class VifPort:
    """One OVS port os_vif plugged for a VIF."""

    name: str
    #: The bridge it is on (None: on no bridge).
    bridge: str | None
    iface_id: str
    mac: str
    vm_uuid: str
    #: The Interface's type (``""``, ``internal``, ``dpdkvhostuser``...).
    type: str


def vif_ports(api: Any) -> list[VifPort]:
    """Every port of the cache plugged by os_vif for a VIF.

    Call it with the connection's lock held (one pass over the cache).
    """
    wiring = client.wiring(api)
    found = []
    for port in api.tables["Port"].rows.values():
        for iface in port.interfaces:
            if iface is None:
                continue
            config = client.interface_config(api, iface)
            ids = config.external_ids
            if not all(ids.get(key) for key in VIF_IDS):
                continue
            if config.type == "patch":
                continue
            on = wiring.bridge_of.get(port.uuid)
            found.append(
                VifPort(
                    name=str(port.name),
                    bridge=None if on is None else on[1],
                    iface_id=ids["iface-id"],
                    mac=ids["attached-mac"],
                    vm_uuid=ids["vm-uuid"],
                    type=config.type,
                )
            )
    return found
