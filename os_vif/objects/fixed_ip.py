"""Fixed IP addresses of a VIF.

Public API: clients construct these classes, plugins read them.
"""

from __future__ import annotations

import netaddr
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import base as osv_base
from os_vif.objects import fields as osv_fields
from os_vif.objects._ovo import declare

__all__ = ["FixedIP", "FixedIPList"]


@ovo_base.VersionedObjectRegistry.register
class FixedIP(osv_base.VersionedObject):
    """An IP address of a VIF on a subnet, with its floating IPs."""

    # 1.0: initial version
    VERSION = "1.0"

    #: The fixed address.
    address: netaddr.IPAddress = declare(fields.IPAddressField())
    #: Floating addresses translated to the fixed one.
    floating_ips: list[netaddr.IPAddress] = declare(
        osv_fields.ListOfIPAddressField()
    )


@ovo_base.VersionedObjectRegistry.register
class FixedIPList(osv_base._ObjectList):
    """A list of :class:`FixedIP` objects (use it like a list)."""

    # 1.0: initial version
    VERSION = "1.0"

    objects: list[FixedIP] = declare(fields.ListOfObjectsField("FixedIP"))
