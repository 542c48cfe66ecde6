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


def _fields_at(cls: type, at: tuple[int, ...]) -> set[str]:
    """The fields ``cls`` has at version ``at``, from its VERSION_STEPS."""
    names = set(getattr(cls, "fields", {}))
    steps: Mapping[str, tuple[str, ...]] = getattr(cls, "VERSION_STEPS", {})
    for version, added in steps.items():
        if at < versionutils.convert_version_to_tuple(version):
            names.difference_update(added)
    return names


_for_base: dict[tuple[type, type, str], str] = {}


def version_for_base(cls: type, base: type, base_version: str) -> str:
    """Newest version of ``cls`` a reader of ``base`` ``base_version`` takes.

    ``cls`` is a subclass of ``base`` (a port profile of
    ``VIFPortProfileBase``, an offload of ``DatapathOffloadBase``).  A
    version manifest that names only ``base`` (as
    ``obj_tree_get_versions()`` does for a field declared with
    ``subclasses=True``) says which of ``base``'s fields the reader knows.
    The answer is the newest version of ``cls`` whose inherited fields are
    all among them: ``VIFPortProfileOpenVSwitch`` 1.4 for
    ``VIFPortProfileBase`` 1.1, 1.1 for 1.0 (``datapath_offload`` came
    with its 1.2).  A ``base_version`` newer than ours, or of another
    major version, constrains nothing: ``cls``'s own version.
    """
    key = (cls, base, base_version)
    known = _for_base.get(key)
    if known is None:
        known = _version_for_base(cls, base, base_version)
        if len(_for_base) < 512:  # bounded: versions come from the wire
            _for_base[key] = known
    return known


def _version_for_base(cls: type, base: type, base_version: str) -> str:
    own = versionutils.convert_version_to_tuple(cls.VERSION)  # type: ignore[attr-defined]
    try:
        wanted = versionutils.convert_version_to_tuple(base_version)
    except (ValueError, TypeError, AttributeError):
        return str(cls.VERSION)  # type: ignore[attr-defined]
    base_own = versionutils.convert_version_to_tuple(base.VERSION)  # type: ignore[attr-defined]
    if wanted[0] != base_own[0] or wanted >= base_own:
        return str(cls.VERSION)  # type: ignore[attr-defined]
    readable = _fields_at(base, wanted)
    inherited = set(getattr(base, "fields", {}))
    for minor in range(own[1], -1, -1):
        at = (own[0], minor)
        if _fields_at(cls, at) & inherited <= readable:
            return "%d.%d" % at
    return "%d.0" % own[0]


#: Where oslo.versionedobjects keeps the value of a set field: the
#: attribute ``STORED + name`` (the serialization catalog and the plugins'
#: field reader read it there too).
STORED = "_obj_"


def _declared_class(child: Any, declared: str) -> type | None:
    """The class named ``declared`` among ``child``'s bases."""
    for klass in type(child).__mro__:
        if klass.__dict__.get("VERSION") and klass.__name__ == declared:
            return klass
    return None


class VersionedObject(
    ovo_base.VersionedObject, ovo_base.ComparableVersionedObject
):
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
            return hasattr(self, STORED + attrname)
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
        if getattr(self, "_obj_version_manifest", None) is not None:
            kept = {
                name: primitive[name]
                for name in self.KEPT_WITH_MANIFEST
                if name in primitive
            }
        drop_fields_newer_than(primitive, target_version, self.VERSION_STEPS)
        primitive.update(kept)

    @classmethod
    def _obj_from_primitive(
        cls, context: Any, objver: str, primitive: dict[str, Any]
    ) -> Any:
        obj = super()._obj_from_primitive(context, objver, primitive)
        # A constructor may set defaults (Network does); they are not data
        # the sender had, so a loaded object has only the fields it was sent.
        data = primitive[obj._obj_primitive_key("data")]
        for name in obj.fields:
            if name not in data and obj.obj_attr_is_set(name):
                delattr(obj, name)
        return obj

    def _obj_relationship_for(
        self, field: str, target_version: str
    ) -> list[tuple[str, str]] | None:
        # A field declared with subclasses=True holds any subclass of its
        # declared class, each versioned on its own.  The declared class's
        # version says nothing about the subclass's, so:
        # - a manifest entry for the actual class wins over the declared
        #   class's entry (oslo.versionedobjects only looks at the latter);
        # - an entry for the declared class only says which of its fields
        #   the reader knows: the subclass goes at its newest version
        #   compatible with that (oslo.versionedobjects would write it at
        #   the base's version number and lose its newer fields);
        # - without a manifest, a subclass keeps its own version, from the
        #   first version of this object that had the field.
        field_type = self.fields[field]
        if _accepts_subclasses(field_type):
            child = getattr(self, field)
            declared = getattr(field_type, "objname", None)
            if isinstance(child, ovo_base.VersionedObject):
                name = child.obj_name()
                manifest = getattr(self, "_obj_version_manifest", None)
                if manifest is not None:
                    if name in manifest:
                        return [(target_version, manifest[name])]
                    base = _declared_class(child, declared or "")
                    if name != declared and declared in manifest and base:
                        return [
                            (
                                target_version,
                                version_for_base(
                                    type(child), base, manifest[declared]
                                ),
                            )
                        ]
                elif name != declared:
                    rules = self.obj_relationships.get(field)
                    first = rules[0][0] if rules else "1.0"
                    return [(first, child.VERSION)]
        return super()._obj_relationship_for(field, target_version)


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


def _accepts_subclasses(field_type: ovo_fields.Field[Any]) -> bool:
    """Tell whether an ObjectField accepts subclasses of its declared type."""
    auto = getattr(field_type, "AUTO_TYPE", None)
    return bool(getattr(auto, "_subclasses", False))


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
