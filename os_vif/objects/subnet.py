"""Subnets of a network.

Public API: clients construct these classes, plugins read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import netaddr
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import base as osv_base
from os_vif.objects import fields as osv_fields

if TYPE_CHECKING:
    from os_vif.objects.fixed_ip import FixedIPList
    from os_vif.objects.route import RouteList

__all__ = ["Subnet", "SubnetList"]


@ovo_base.VersionedObjectRegistry.register
class Subnet(osv_base.VersionedObject):
    """An IPv4 or IPv6 subnet and the addresses a VIF has on it."""

    # 1.0: initial version
    VERSION = "1.0"

    fields = {
        #: The subnet's prefix.
        "cidr": fields.IPNetworkField(),
        #: DNS servers of the subnet.
        "dns": osv_fields.ListOfIPAddressField(),
        #: Default gateway of the subnet.
        "gateway": fields.IPAddressField(),
        #: The VIF's fixed IP addresses on the subnet.
        "ips": fields.ObjectField("FixedIPList"),
        #: Static routes of the subnet.
        "routes": fields.ObjectField("RouteList"),
        #: Address of the subnet's DHCP server.
        "dhcp_server": fields.IPAddressField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        cidr: netaddr.IPNetwork
        dns: list[netaddr.IPAddress]
        gateway: netaddr.IPAddress
        ips: FixedIPList
        routes: RouteList
        dhcp_server: netaddr.IPAddress

    obj_relationships = {
        "ips": [("1.0", "1.0")],
        "routes": [("1.0", "1.0")],
    }


@ovo_base.VersionedObjectRegistry.register
class SubnetList(osv_base.VersionedObject, ovo_base.ObjectListBase):
    """A list of :class:`Subnet` objects (use it like a list)."""

    # 1.0: initial version
    VERSION = "1.0"

    fields = {
        "objects": fields.ListOfObjectsField("Subnet"),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        objects: list[Subnet]

    # Without it, backporting a parent without a version manifest fails with
    # "No rule for objects" (as os-vif 5.3.0's Network to 1.0 does).
    obj_relationships = {"objects": [("1.0", "1.0")]}
