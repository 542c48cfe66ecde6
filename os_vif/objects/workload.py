"""The workload's end of a VIF: the interface inside a network namespace.

Public API (new in os-vif 6): a client that plugs a container (a CNI
plugin, zun) passes a :class:`WorkloadInterface` beside the VIF, as
``os_vif.plug(vif, instance_info, workload=...)``; the plugin then makes
the container's end too -- a veth peer, or a nested VIF's macvlan / VLAN
sub-interface -- inside the namespace, with the VIF's MAC, the network's
MTU, the fixed IPs, the subnets' routes and, for the default interface,
the default route.  The VIF objects keep their versions and wire form:
this is a separate object, never a field of a VIF.
"""

from __future__ import annotations

from typing import Any

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import base as osv_base
from os_vif.objects._ovo import declare

__all__ = ["WorkloadInterface"]


@ovo_base.VersionedObjectRegistry.register
class WorkloadInterface(osv_base.VersionedObject):
    """Where the workload's end of a VIF goes, and what it is called.

    The namespace is given as a runtime gives it to CNI: a path
    (``/proc/<pid>/ns/net`` or ``/run/netns/<name>``) or the name of a
    namespace under ``/run/netns``.
    """

    # 1.0: initial version
    VERSION = "1.0"

    #: The network namespace: a path or a name under ``/run/netns``.
    netns: str = declare(fields.StringField())
    #: The interface's name inside the namespace (``eth0``).
    ifname: str = declare(fields.StringField())
    #: Whether this is the workload's default interface: it gets the
    #: default route through each subnet's gateway.
    default: bool = declare(fields.BooleanField(default=True))
    #: For the nested types (``VIFVlanNested``, ``VIFMacvlanNested``): the
    #: host's link the sub-interface is made on (the VM's port).  None for
    #: the others.
    parent: str | None = declare(
        fields.StringField(nullable=True, default=None)  # type: ignore[arg-type]
    )

    def __init__(self, context: Any = None, **kwargs: Any) -> None:
        """Set the fields given; ``default`` and ``parent`` default."""
        super().__init__(context, **kwargs)
        for name in ("default", "parent"):
            if name not in kwargs:
                self.obj_set_defaults(name)
