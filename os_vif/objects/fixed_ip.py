"""Fixed IP addresses of a VIF.

Public API: clients construct these classes, plugins read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import netaddr
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import base as osv_base
from os_vif.objects import fields as osv_fields

__all__ = ["FixedIP", "FixedIPList"]


@ovo_base.VersionedObjectRegistry.register
class FixedIP(osv_base.VersionedObject):
    """An IP address of a VIF on a subnet, with its floating IPs."""

    # 1.0: initial version
    VERSION = "1.0"

    fields = {
        #: The fixed address.
        "address": fields.IPAddressField(),
        #: Floating addresses translated to the fixed one.
        "floating_ips": osv_fields.ListOfIPAddressField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        address: netaddr.IPAddress
        floating_ips: list[netaddr.IPAddress]


@ovo_base.VersionedObjectRegistry.register
class FixedIPList(osv_base.VersionedObject, ovo_base.ObjectListBase):
    """A list of :class:`FixedIP` objects (use it like a list)."""

    # 1.0: initial version
    VERSION = "1.0"

    fields = {
        "objects": fields.ListOfObjectsField("FixedIP"),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        objects: list[FixedIP]

    # Without it, backporting a parent without a version manifest fails with
    # "No rule for objects" (as os-vif 5.3.0's Network to 1.0 does).
    obj_relationships = {"objects": [("1.0", "1.0")]}
