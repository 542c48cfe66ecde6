"""The network a VIF is on.

Public API: clients construct :class:`Network`, plugins read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import base as osv_base

if TYPE_CHECKING:
    from os_vif.objects.subnet import SubnetList

__all__ = ["Network"]


@ovo_base.VersionedObjectRegistry.register
class Network(osv_base.VersionedObject):
    """A layer-2 network and the subnets on it."""

    # 1.0: initial version
    # 1.1: mtu
    VERSION = "1.1"
    VERSION_STEPS = {"1.1": ("mtu",)}

    fields = {
        #: The neutron network ID.
        "id": fields.UUIDField(),
        #: Name of the bridge the network's ports attach to.
        "bridge": fields.StringField(),
        #: Human readable name of the network.
        "label": fields.StringField(),
        #: The subnets of the network.
        "subnets": fields.ObjectField("SubnetList"),
        #: Whether the host must create the bridge.
        "should_provide_bridge": fields.BooleanField(),
        #: Whether the host must create the VLAN device on the bridge.
        "should_provide_vlan": fields.BooleanField(),
        #: The host interface the bridge uses for its uplink.
        "bridge_interface": fields.StringField(nullable=True),
        #: The VLAN ID of the network.
        "vlan": fields.IntegerField(nullable=True),
        #: Whether the network is served by every host (nova-network era).
        "multi_host": fields.BooleanField(),
        #: The network's MTU.
        "mtu": fields.IntegerField(nullable=True),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        id: str
        bridge: str
        label: str
        subnets: SubnetList
        should_provide_bridge: bool
        should_provide_vlan: bool
        bridge_interface: str | None
        vlan: int | None
        multi_host: bool
        mtu: int | None

    obj_relationships = {"subnets": [("1.0", "1.0")]}

    def __init__(self, **kwargs: object) -> None:
        # These fields have no default in the schema (their fingerprint must
        # stay os-vif 5.x's), yet every reader expects them set: a network
        # is created with no subnets, no MTU and no bridge or VLAN to make.
        kwargs.setdefault("subnets", _subnet_list())
        kwargs.setdefault("multi_host", False)
        kwargs.setdefault("should_provide_bridge", False)
        kwargs.setdefault("should_provide_vlan", False)
        kwargs.setdefault("mtu", None)
        super().__init__(**kwargs)


def _subnet_list() -> ovo_base.VersionedObject:
    # Imported late: subnet.py would otherwise be needed to import network.py
    # although neither module depends on the other's code.
    from os_vif.objects import subnet

    return subnet.SubnetList(objects=[])
