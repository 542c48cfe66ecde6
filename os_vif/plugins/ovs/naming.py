"""Names of the devices and ports the ovs plugin makes for a VIF.

They follow os-vif 5.x's conventions, because nova, neutron's agents and
operators' tools find the devices by these names: the hybrid plug's
``qbr``/``qvb``/``qvo`` devices, vhost-user ports (``vhu``), per-port
bridges (``pb``) and their patch ports (``pbp``/``ibp``).  The rule that
makes a name of a prefix and a VIF id is :mod:`os_vif.internal.names`'s.
"""

from __future__ import annotations

from os_vif.internal import names

__all__ = [
    "NAME_LENGTH",
    "TRUNK_BRIDGE_PREFIX",
    "hybrid_names",
    "vhostuser_port",
    "per_port_bridge",
    "per_port_patches",
    "is_trunk_bridge",
]

#: Length of the names derived from a VIF id.
NAME_LENGTH = names.NAME_LENGTH
#: Bridges of neutron's trunk ports start with this prefix.
TRUNK_BRIDGE_PREFIX = "tbr-"


#: ``prefix`` + VIF id, cut to a device name's length.
port_name = names.port_name
#: The ``qbr`` bridge and ``qvb``/``qvo`` veth ends of a VIF.
hybrid_names = names.hybrid_names
_name = port_name


def vhostuser_port(vif_id: str) -> str:
    """Return the OVS port name of a vhost-user VIF."""
    return _name("vhu", vif_id)


def per_port_bridge(vif_id: str) -> str:
    """Return the name of a VIF's own bridge (``per_port_bridge``)."""
    return _name("pb", vif_id)


def per_port_patches(vif_id: str) -> tuple[str, str]:
    """Return the patch ports on the per-port and integration bridges.

    Patch ports have no kernel device, so their names are not cut.
    """
    return "pbp" + vif_id, "ibp" + vif_id


def is_trunk_bridge(name: str) -> bool:
    """Say whether ``name`` is one of neutron's trunk bridges."""
    return name.startswith(TRUNK_BRIDGE_PREFIX)
