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
from os_vif.objects._ovo import declare

if TYPE_CHECKING:
    from os_vif.objects.fixed_ip import FixedIPList
    from os_vif.objects.route import RouteList

__all__ = ["Subnet", "SubnetList"]


@ovo_base.VersionedObjectRegistry.register
class Subnet(osv_base.VersionedObject):
    """An IPv4 or IPv6 subnet and the addresses a VIF has on it."""

    # 1.0: initial version
    VERSION = "1.0"

    #: The subnet's prefix.
    cidr: netaddr.IPNetwork = declare(fields.IPNetworkField())
    #: DNS servers of the subnet.
    dns: list[netaddr.IPAddress] = declare(osv_fields.ListOfIPAddressField())
    #: Default gateway of the subnet.
    gateway: netaddr.IPAddress = declare(fields.IPAddressField())
    #: The VIF's fixed IP addresses on the subnet.
    ips: FixedIPList = declare(fields.ObjectField("FixedIPList"))
    #: Static routes of the subnet.
    routes: RouteList = declare(fields.ObjectField("RouteList"))
    #: Address of the subnet's DHCP server.
    dhcp_server: netaddr.IPAddress = declare(fields.IPAddressField())

    obj_relationships = {
        "ips": [("1.0", "1.0")],
        "routes": [("1.0", "1.0")],
    }


@ovo_base.VersionedObjectRegistry.register
class SubnetList(osv_base._ObjectList):
    """A list of :class:`Subnet` objects (use it like a list)."""

    # 1.0: initial version
    VERSION = "1.0"

    objects: list[Subnet] = declare(fields.ListOfObjectsField("Subnet"))
