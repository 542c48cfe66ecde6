"""Names of the devices and ports the ovs plugin makes for a VIF.

They follow os-vif 5.x's conventions, because nova, neutron's agents and
operators' tools find the devices by these names: the hybrid plug's
``qbr``/``qvb``/``qvo`` devices, vhost-user ports (``vhu``), per-port
bridges (``pb``) and their patch ports (``pbp``/``ibp``).  Every name made
from a VIF id is cut to 14 characters, one short of the kernel's limit.
"""

from __future__ import annotations

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
NAME_LENGTH = 14
#: Bridges of neutron's trunk ports start with this prefix.
TRUNK_BRIDGE_PREFIX = "tbr-"


def port_name(prefix: str, vif_id: str, max_length: int = NAME_LENGTH) -> str:
    """Return ``prefix`` + ``vif_id``, cut to a device name's length."""
    return (prefix + vif_id)[:max_length]


_name = port_name


def hybrid_names(vif_id: str) -> tuple[str, str, str]:
    """Return the ``qbr`` bridge and ``qvb``/``qvo`` veth ends of a VIF."""
    return _name("qbr", vif_id), _name("qvb", vif_id), _name("qvo", vif_id)


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
