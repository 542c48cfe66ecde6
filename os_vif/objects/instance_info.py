"""The instance (VM or pod) a VIF belongs to.

Public API: clients construct :class:`InstanceInfo`, plugins read it.
"""

from __future__ import annotations

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import base as osv_base
from os_vif.objects._ovo import declare

__all__ = ["InstanceInfo"]


@ovo_base.VersionedObjectRegistry.register
class InstanceInfo(osv_base.VersionedObject):
    """Identity of the instance whose VIF is plugged."""

    # 1.0: initial version
    VERSION = "1.0"

    #: The instance's UUID.
    uuid: str = declare(fields.UUIDField())
    #: The instance's name (libvirt domain, pod name...).
    name: str = declare(fields.StringField())
    #: The project that owns the instance.
    project_id: str = declare(fields.StringField())
