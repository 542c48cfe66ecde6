"""PodState: the VIFs of a Kubernetes pod, as kuryr-kubernetes stored them.

Older kuryr-kubernetes releases stored a pod's VIFs as a ``PodState``
primitive in a pod annotation; kuryr-kubernetes 10 still reads them when
upgrading.  The class is here, with kuryr's name, version and fields, so
those annotations load with os_vif alone.  New code stores VIFs one by one
(see :mod:`os_vif.serialization`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import base as osv_base
from os_vif.objects._ovo import declare

if TYPE_CHECKING:
    from os_vif.objects.vif import VIFBase

__all__ = ["PodState", "DEFAULT_IFNAME"]

#: The interface name of a pod's default VIF, as kuryr-kubernetes names it.
DEFAULT_IFNAME = "eth0"


class _DictOfVIFsField(fields.AutoTypedField):
    """A dict of interface name to VIF (any VIF type)."""

    AUTO_TYPE = fields.Dict(fields.Object("VIFBase", subclasses=True))


@ovo_base.VersionedObjectRegistry.register
class PodState(osv_base.VersionedObject):
    """The default VIF of a pod and its additional VIFs by interface name."""

    # 1.0: initial version (as kuryr-kubernetes defined it)
    VERSION = "1.0"

    #: The VIF of the pod's default interface.
    default_vif: VIFBase = declare(
        fields.ObjectField("VIFBase", subclasses=True)
    )
    #: Further VIFs, by interface name.
    additional_vifs: dict[str, VIFBase] = declare(_DictOfVIFsField(default={}))

    obj_relationships = {"default_vif": [("1.0", "1.0")]}

    def __init__(self, context: Any = None, **kwargs: Any) -> None:
        super().__init__(context, **kwargs)
        # kuryr's objects set their defaults and start with no changes.
        self.obj_set_defaults()
        self.obj_reset_changes()

    @property
    def vifs(self) -> dict[str, VIFBase]:
        """Every VIF of the pod, by interface name."""
        result = {DEFAULT_IFNAME: self.default_vif}
        result.update(self.additional_vifs)
        return result
