"""The base classes of every os_vif object.

Clients construct os_vif objects and plugins read them; neither subclasses
them (see :doc:`/user/public_api`).  What this module adds to
oslo.versionedobjects is the ``os_vif`` namespace, value equality, and the
rules for backporting objects that contain other objects.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

from oslo_utils import versionutils
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields as ovo_fields

from os_vif.objects import _backport, _ovo
from os_vif.objects._backport import version_for_base

__all__ = [
    "VersionedObject",
    "VersionedObjectPrintableMixin",
    "SubclassingWarning",
    "drop_fields_newer_than",
    "version_for_base",
    "warn_if_subclassed_outside",
]

#: The oslo.versionedobjects namespace of every os_vif object on the wire.
NAMESPACE = "os_vif"


class SubclassingWarning(FutureWarning):
    """A VIF, port profile or datapath offload class was subclassed outside
    os_vif.

    Such classes are vocabulary shared between services; a type only one
    client knows cannot be negotiated or versioned.
    """


def warn_if_subclassed_outside(cls: type, root: str) -> None:
    """Warn when ``cls`` (a subclass of ``root``) is defined outside os_vif."""
    module = cls.__module__ or ""
    if module == "os_vif" or module.startswith("os_vif."):
        return
    # Name the os_vif class actually subclassed (VIFNestedDPDK, not VIFBase).
    parent = next(
        (
            b.__name__
            for b in cls.__mro__[1:]
            if b.__module__.startswith("os_vif")
        ),
        root,
    )
    warnings.warn(
        "%s.%s subclasses the os_vif class %s. Subclassing os_vif objects "
        "outside os_vif is not supported and will stop working in a future "
        "release: construct the os_vif types as they are (the types "
        "kuryr-kubernetes used to define, VIFVlanNested, VIFMacvlanNested, "
        "VIFDPDKNested and VIFSriov, are in os_vif.objects.vif) or propose "
        "the new type for inclusion in os_vif."
        % (module, cls.__name__, parent),
        SubclassingWarning,
        stacklevel=3,
    )


def drop_fields_newer_than(
    primitive: dict[str, Any],
    target_version: str,
    added_in: Mapping[str, tuple[str, ...]],
) -> None:
    """Remove from ``primitive`` the fields unknown at ``target_version``.

    ``added_in`` maps a version to the fields that version introduced; it is
    the written record of an object's version steps.
    """
    target = versionutils.convert_version_to_tuple(target_version)
    for version, names in added_in.items():
        if target < versionutils.convert_version_to_tuple(version):
            for name in names:
                primitive.pop(name, None)


class VersionedObject(_ovo.Hooks, ovo_base.ComparableVersionedObject):
    """Base class of every os_vif object.

    Objects compare equal when their primitives are equal, change tracking
    aside (see :meth:`__eq__`).  Every field that holds another object has a
    rule in :attr:`obj_relationships`, so that an object can be backported
    to any earlier version of its major version without a version manifest.
    """

    OBJ_PROJECT_NAMESPACE = NAMESPACE

    def __eq__(self, other: object) -> bool:
        """Same class, version, fields set and values, nested included.

        Which fields changed since construction or loading is bookkeeping,
        not value: oslo.versionedobjects compares it too, in the iteration
        order of a set (so equal objects could compare unequal), and an
        object loaded from the compact format, which does not carry it,
        would differ from the one written.
        """
        if not isinstance(other, ovo_base.VersionedObject):
            return NotImplemented
        return _without_changes(self.obj_to_primitive()) == (
            _without_changes(other.obj_to_primitive())
        )

    # Defining __eq__ would make instances unhashable; keep identity hashes.
    __hash__ = ovo_base.ComparableVersionedObject.__hash__

    def obj_attr_is_set(self, attrname: str) -> bool:
        """Tell whether the field ``attrname`` has a value.

        As oslo.versionedobjects answers (AttributeError for a name that is
        no field), without building the list of every field name on each
        call: plugins ask this for a dozen fields of every VIF they plug,
        and a batch plugs hundreds.
        """
        if attrname in self.fields or attrname in self.obj_extra_fields:
            return _ovo.is_set(self, attrname)
        return bool(super().obj_attr_is_set(attrname))

    #: Version steps of this class: version -> fields added by that version.
    #: :meth:`obj_make_compatible` removes them from older targets.
    VERSION_STEPS: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    #: Fields os-vif 5.x removes from an older target only through
    #: :attr:`obj_relationships`, which a version manifest bypasses: given a
    #: manifest, it keeps them.  We do the same, so that our primitives are
    #: byte for byte os-vif 5.x's; readers of any version ignore fields their
    #: version does not have.
    KEPT_WITH_MANIFEST: ClassVar[tuple[str, ...]] = ()

    def obj_make_compatible(
        self, primitive: dict[str, Any], target_version: str
    ) -> None:
        """Backport ``primitive`` (this object's data) to ``target_version``.

        Nested objects are backported first, following the version
        manifest when one is given and :attr:`obj_relationships` otherwise;
        then the fields that ``target_version`` does not have are removed
        (but for :attr:`KEPT_WITH_MANIFEST` under a manifest).
        """
        super().obj_make_compatible(primitive, target_version)
        kept = {}
        if _ovo.active_manifest(self) is not None:
            kept = {
                name: primitive[name]
                for name in self.KEPT_WITH_MANIFEST
                if name in primitive
            }
        drop_fields_newer_than(primitive, target_version, self.VERSION_STEPS)
        primitive.update(kept)

    @classmethod
    def keep_loaded_only(cls, obj: Any, data: Mapping[str, Any]) -> None:
        """Unset what the constructor set but ``data`` (just loaded) lacks.

        A constructor may set defaults (Network does); they are not data
        the sender had, so a loaded object has only the fields it was sent.
        """
        for name in obj.fields:
            if name not in data and _ovo.is_set(obj, name):
                delattr(obj, name)

    def child_relationship(
        self, field: str, target_version: str, manifest: _ovo.Manifest
    ) -> list[tuple[str, str]] | None:
        """The rules backporting ``field``'s object(s).

        Those of ``os_vif.objects._backport.child_rules``.

        Called by oslo.versionedobjects' ``obj_to_primitive`` for each set
        object field when it backports this object.
        """
        ftype = _ovo.declared_type(self.fields[field])
        child = None
        if isinstance(ftype, ovo_fields.Object):
            declared, subclasses = _ovo.object_type(ftype)
            child = _ovo.value_or(self, field)
        elif isinstance(ftype, ovo_fields.List):
            declared, subclasses = _ovo.object_type(_ovo.element_type(ftype))
        else:
            return None
        rules = _backport.child_rules(
            self.obj_relationships,
            field,
            declared,
            subclasses,
            child,
            manifest,
            target_version,
        )
        return None if rules is None else list(rules)


class _ObjectList(VersionedObject, ovo_base.ObjectListBase):
    """The base of os_vif's list objects (``FixedIPList``, ``RouteList``...).

    A subclass declares ``objects``, a ``ListOfObjectsField`` of its item
    class, and is used like a list.
    """

    # Without it, backporting a parent without a version manifest fails with
    # "No rule for objects" (as os-vif 5.3.0's Network to 1.0 does).
    obj_relationships = {"objects": [("1.0", "1.0")]}


def _without_changes(primitive: Any) -> Any:
    """``primitive`` without its ``versioned_object.changes`` lists."""
    if isinstance(primitive, dict):
        return {
            key: _without_changes(value)
            for key, value in primitive.items()
            if key != "versioned_object.changes"
        }
    if isinstance(primitive, list):
        return [_without_changes(item) for item in primitive]
    return primitive


class VersionedObjectPrintableMixin:
    """Make ``str()`` of an object print its primitive, as os-vif 5.x does.

    Used by the host information objects, which operators print in logs:
    ``str(host_info)`` is ``str(host_info.obj_to_primitive())``, a dict
    with the class name, version and every field set, nested objects
    included.  ``repr()`` stays oslo.versionedobjects' one-line summary.  A
    class without ``obj_to_primitive`` keeps its own ``__str__``.
    """

    def __str__(self) -> str:
        to_primitive = getattr(self, "obj_to_primitive", None)
        if not callable(to_primitive):
            return super().__str__()
        return str(to_primitive())
