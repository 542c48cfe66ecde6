"""Static routes of a subnet.

Public API: clients construct these classes, plugins read them.
"""

from __future__ import annotations

import netaddr
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import base as osv_base
from os_vif.objects._ovo import declare

__all__ = ["Route", "RouteList"]


@ovo_base.VersionedObjectRegistry.register
class Route(osv_base.VersionedObject):
    """A route to ``cidr`` through ``gateway`` (or out of ``interface``)."""

    # 1.0: initial version
    VERSION = "1.0"

    #: Destination prefix.
    cidr: netaddr.IPNetwork = declare(fields.IPNetworkField())
    #: Next hop.
    gateway: netaddr.IPAddress = declare(fields.IPAddressField())
    #: Outgoing interface.
    interface: str = declare(fields.StringField())


@ovo_base.VersionedObjectRegistry.register
class RouteList(osv_base._ObjectList):
    """A list of :class:`Route` objects (use it like a list)."""

    # 1.0: initial version
    VERSION = "1.0"

    objects: list[Route] = declare(fields.ListOfObjectsField("Route"))
