"""Build an instance of any os_vif object class with every field set.

Values are chosen from the field's type, so that every field of every class
(including ones added later) is exercised without a hand-written sample.
"""

from __future__ import annotations

import itertools
from typing import Any

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import fields as osv_fields

_counter = itertools.count(1)

# A concrete class for fields declared with an abstract base.
CONCRETE = {
    "VIFPortProfileBase": "VIFPortProfileOpenVSwitch",
    "DatapathOffloadBase": "DatapathOffloadRepresentor",
    "VIFBase": "VIFOpenVSwitch",
}


def os_vif_classes() -> dict[str, type[ovo_base.VersionedObject]]:
    """Return the newest registered class of every os_vif object."""
    registry = ovo_base.VersionedObjectRegistry.obj_classes()
    return {
        name: classes[0]
        for name, classes in registry.items()
        if classes[0].OBJ_PROJECT_NAMESPACE == "os_vif"
    }


def value_for(field: fields.Field, depth: int) -> Any:
    n = next(_counter)
    if isinstance(field, fields.UUIDField):
        return "00000000-0000-4000-8000-%012d" % n
    if isinstance(field, fields.MACAddressField):
        return "fa:16:3e:00:00:%02x" % (n % 256)
    if isinstance(field, fields.PCIAddressField):
        return "0000:81:00.%d" % (n % 8)
    if isinstance(field, fields.IPNetworkField):
        return "10.%d.0.0/24" % (n % 256)
    if isinstance(field, fields.IPAddressField):
        return "10.0.0.%d" % (n % 250 + 1)
    if isinstance(field, osv_fields.ListOfIPAddressField):
        return ["192.0.2.%d" % (n % 250 + 1), "2001:db8::%x" % n]
    if isinstance(field, osv_fields.VIFDirectModeField):
        return "passthrough"
    if isinstance(field, osv_fields.VIFVHostUserModeField):
        return "server"
    if isinstance(field, osv_fields.VIFHostDeviceDevTypeField):
        return "ethernet"
    if isinstance(field, fields.BooleanField):
        return bool(n % 2)
    if isinstance(field, fields.IntegerField):
        return n
    if isinstance(field, fields.StringField):
        return "value%d" % n
    if isinstance(field, fields.ObjectField):
        return populated(CONCRETE.get(field.objname, field.objname), depth + 1)
    if isinstance(getattr(field, "AUTO_TYPE", None), fields.Dict):
        inner = field.AUTO_TYPE._element_type._type  # dict of objects
        return {
            "eth%d" % i: populated(
                CONCRETE.get(inner._obj_name, inner._obj_name), depth + 1
            )
            for i in (1, 2)
        }
    if isinstance(field, fields.ListOfObjectsField):
        return [populated(field.objname, depth + 1) for _ in range(2)]
    raise AssertionError("no sample value for %r" % field)


def populated(name: str, depth: int = 0) -> ovo_base.VersionedObject:
    """Return an instance of the os_vif class ``name`` with all fields set."""
    cls = os_vif_classes()[name]
    values = {
        field_name: value_for(field, depth)
        for field_name, field in sorted(cls.fields.items())
    }
    return cls(**values)
