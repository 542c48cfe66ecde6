"""What a plugin wants in OVSDB, as plain values.

A plug is described by the bridges that must exist and the ports (each
with its single Interface) that must be on them; an unplug by the ports to
remove.  These values carry no behaviour: the operations of
:mod:`.operations` build them, and the commands of :mod:`.client` write
the differences they find inside the transaction.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping

__all__ = [
    "Bridge",
    "Port",
    "PortRemoval",
    "DEAD_VLAN",
    "QOS_NAMESPACE",
    "qos_id",
    "qos_external_ids",
]

#: The VLAN ovs-vswitchd drops: a port tagged with it carries no traffic
#: until the network agent gives it its real tag.
DEAD_VLAN = 4095

#: The namespace of the UUIDs that name a port's QoS row: os-vif 5.x's,
#: so that rows made by either release are found by the other.
QOS_NAMESPACE = uuid.UUID("68da264a-847f-42a8-8ab0-5e774aee3d95")


def qos_id(port: str) -> str:
    """Return the ``external_ids:id`` of the QoS row of ``port``."""
    return str(uuid.uuid5(QOS_NAMESPACE, port))


def qos_external_ids(port: str, qos_type: str) -> dict[str, str]:
    """Return the ``external_ids`` of the QoS row a plug makes for ``port``."""
    return {"id": qos_id(port), "_type": qos_type}


@dataclasses.dataclass(frozen=True)
class Bridge:
    """A bridge that must exist.

    ``datapath_type`` (``system``, ``netdev``...) is set when the bridge is
    made, ``default_datapath_type`` (what the VIF implies when it names
    none) when it names none either; ``None`` leaves it to ovs-vswitchd's
    default.  An existing bridge's type is never changed here (the
    operation refuses a VIF that asks for another one).
    """

    name: str
    datapath_type: str | None = None
    default_datapath_type: str | None = None


@dataclasses.dataclass(frozen=True)
class Port:
    """A port with one Interface of the same name on ``bridge``.

    Kept in line on every plug: the bridge the port is on, the interface
    ``type``, the listed ``external_ids`` and ``options`` keys (other keys,
    set by a network agent, are left alone) and ``mtu_request``.

    Set only when the port is created, because the network agent owns them
    afterwards: ``tag``/``vlan_mode``/``trunks`` (the dead VLAN of
    ``isolate_vif``) and a QoS row of type ``qos_type``, with os-vif 5.x's
    identity (:func:`qos_external_ids`).
    """

    name: str
    bridge: str
    interface_type: str = ""
    external_ids: Mapping[str, str] = dataclasses.field(default_factory=dict)
    options: Mapping[str, str] = dataclasses.field(default_factory=dict)
    mtu_request: int | None = None
    tag: int | None = None
    vlan_mode: str | None = None
    trunks: tuple[int, ...] = ()
    qos_type: str | None = None


@dataclasses.dataclass(frozen=True)
class PortRemoval:
    """A port to remove (absent is fine).

    The port's QoS rows (:func:`qos_external_ids`, made by either release)
    go with it, even when the port is gone already.
    With ``remove_bridge_if_unused``, the port's bridge is deleted too when
    nothing uses it any more: no port is left but the bridge's own internal
    port and patch ports (patch ports are plumbing, not users).
    """

    name: str
    remove_bridge_if_unused: bool = False
