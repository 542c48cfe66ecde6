"""Every os_vif class as the serialisers see it, computed once.

The encoders and the strict decoder never consult oslo.versionedobjects'
field machinery on the hot path: they read the :class:`ClassSpec` built here
from the classes' field declarations, version steps and relationships.  Only
classes defined in os_vif's own modules are listed, whatever else is
registered in the ``os_vif`` namespace.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields as ovo_fields

from os_vif import objects
from os_vif.objects import _backport, _ovo
from os_vif.objects import base as osv_base

__all__ = [
    "FieldSpec",
    "ClassSpec",
    "Catalog",
    "catalog",
    "parse_version",
    "subobject_version",
    "TARGET_BEFORE_FIELD",
]

# Field kinds: what a value looks like on the wire and how it is checked.
STR = "string"
INT = "integer"
BOOL = "boolean"
UUID = "uuid"
MAC = "mac"
PCI = "pci"
IPADDR = "ipaddress"
IPNET = "ipnetwork"
ENUM = "enum"
IPLIST = "ipaddress-list"
OBJ = "object"
OBJLIST = "object-list"
OBJDICT = "object-dict"

#: Fields without which an object is not meaningful.  os-vif never required
#: any field; these are the identities every producer we know of (os-vif
#: since 1.0, nova, kuryr-kubernetes) always sets.  Inherited by subclasses.
REQUIRED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "VIFBase": ("id",),
    "Network": ("id",),
    "Subnet": ("cidr",),
    "FixedIP": ("address",),
    "Route": ("cidr",),
    "InstanceInfo": ("uuid",),
    "WorkloadInterface": ("netns", "ifname"),
    "HostInfo": ("plugin_info",),
    "HostPluginInfo": ("plugin_name",),
    "HostVIFInfo": ("vif_object_name",),
    "HostPortProfileInfo": ("profile_object_name",),
}

#: Returned by :func:`subobject_version` when the parent's target version
#: predates the field holding the child: the field is left out.
TARGET_BEFORE_FIELD = "<before-field>"


_parsed_versions: dict[str, tuple[int, int]] = {}


def parse_version(text: Any) -> tuple[int, int] | None:
    """Return ``(major, minor)`` of ``"X.Y"``, or None if it is not one."""
    if type(text) is not str or len(text) > 16:
        return None
    known = _parsed_versions.get(text)
    if known is not None:
        return known
    major, dot, minor = text.partition(".")
    if (
        not dot
        or not major.isdigit()
        or not minor.isdigit()
        or not major.isascii()
        or not minor.isascii()
        or (len(major) > 1 and major[0] == "0")
        or (len(minor) > 1 and minor[0] == "0")
    ):
        return None
    parsed = int(major), int(minor)
    if len(_parsed_versions) < 256:  # bounded: versions come from the wire
        _parsed_versions[text] = parsed
    return parsed


def subobject_version(
    parent_version: tuple[int, int], rules: Sequence[tuple[str, str]]
) -> str:
    """Return the child version a relationship table gives for a parent.

    ``rules`` is an ``obj_relationships`` entry: ``(parent, child)`` version
    pairs in ascending order.  Returns :data:`TARGET_BEFORE_FIELD` when the
    parent version predates the first pair.
    """
    for index, (parent, child) in enumerate(rules):
        at = parse_version(parent)
        assert at is not None
        if parent_version < at:
            if index == 0:
                return TARGET_BEFORE_FIELD
            return rules[index - 1][1]
        if parent_version == at:
            return child
    return rules[-1][1]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of one class."""

    #: The field's name.
    name: str
    #: The instance attribute oslo.versionedobjects stores the value in.
    attr: str
    #: One of the kind constants of this module.
    kind: str
    nullable: bool
    #: The declared class of an object (or object list) field.
    objname: str | None = None
    #: Whether an object field accepts subclasses of its declared class.
    subclasses: bool = False
    #: Valid values of an enum field.
    choices: tuple[str, ...] = ()
    #: Version of the owning class that introduced the field.
    added_in: tuple[int, int] = (1, 0)
    #: Removed from an older target only by the relationship rules, which
    #: a version manifest bypasses (the class's ``KEPT_WITH_MANIFEST``):
    #: with a manifest, os-vif 5.x writes a port profile below 1.1 (1.2 for
    #: the Open vSwitch profiles) with its ``datapath_offload``.  We write
    #: the same and read it back.
    relationship_only: bool = False


@dataclass(slots=True)
class ClassSpec:
    """One os_vif class: versions, fields, and how to build an instance."""

    name: str
    cls: type[ovo_base.VersionedObject]
    version: str
    version_tuple: tuple[int, int]
    #: Every field, in declaration order (the order primitives use).
    fields: dict[str, FieldSpec]
    #: ``fields`` as a tuple, for the encoders' loops.
    field_list: tuple[FieldSpec, ...]
    required: frozenset[str]
    #: True for the list classes (``SubnetList``...): one ``objects`` field.
    is_list: bool
    relationships: dict[str, list[tuple[str, str]]]
    #: The class and the classes of its subclasses, by name.
    family: frozenset[str] = frozenset()
    #: The names of ``fields``, as a set.
    names: frozenset[str] = frozenset()
    _by_version: dict[str, dict[str, FieldSpec]] = field(default_factory=dict)
    _written: dict[
        tuple[int, int], tuple[tuple[FieldSpec, ...], tuple[FieldSpec, ...]]
    ] = field(default_factory=dict)

    @property
    def versions(self) -> tuple[str, ...]:
        """Every version of this class we read and write, oldest first."""
        major, minor = self.version_tuple
        return tuple("%d.%d" % (major, m) for m in range(minor + 1))

    def fields_at(self, version: str) -> dict[str, FieldSpec]:
        """Return the fields the class has at ``version`` (one we support)."""
        known = self._by_version.get(version)
        if known is None:
            at = parse_version(version)
            assert at is not None
            known = {
                name: spec
                for name, spec in self.fields.items()
                if spec.added_in <= at
            }
            self._by_version[version] = known
        return known

    def written_at(
        self, at: tuple[int, int]
    ) -> tuple[tuple[FieldSpec, ...], tuple[FieldSpec, ...]]:
        """(fields written at version ``at``, fields left out of it).

        Left out are the fields added after ``at``, but for those only the
        relationship rules remove (:attr:`FieldSpec.relationship_only`).
        """
        known = self._written.get(at)
        if known is None:
            left_out = tuple(
                f
                for f in self.field_list
                if f.added_in > at and not f.relationship_only
            )
            known = (
                tuple(f for f in self.field_list if f not in left_out),
                left_out,
            )
            if len(self._written) < 64:  # bounded: versions from the wire
                self._written[at] = known
        return known

    def readable_at(self, version: str) -> dict[str, FieldSpec]:
        """Return the fields data of ``version`` may hold.

        Those of :meth:`fields_at`, and the fields os-vif 5.x leaves in
        older versions (:attr:`FieldSpec.relationship_only`).
        """
        key = "read:" + version
        known = self._by_version.get(key)
        if known is None:
            at_version = self.fields_at(version)
            known = {
                name: spec
                for name, spec in self.fields.items()
                if name in at_version or spec.relationship_only
            }
            self._by_version[key] = known
        return known

    def supports(self, version_tuple: tuple[int, int]) -> bool:
        """Tell whether we read and write ``version_tuple`` of this class."""
        return (
            version_tuple[0] == self.version_tuple[0]
            and version_tuple <= self.version_tuple
        )


class Catalog:
    """Every os_vif class, by name and by Python class."""

    def __init__(self, specs: list[ClassSpec]) -> None:
        self.by_name: dict[str, ClassSpec] = {s.name: s for s in specs}
        self.by_class: dict[type, ClassSpec] = {s.cls: s for s in specs}


_lock = threading.Lock()
_catalog: Catalog | None = None


def catalog() -> Catalog:
    """Return the catalog of os_vif classes, building it on first use."""
    global _catalog
    if _catalog is None:
        with _lock:
            if _catalog is None:
                _catalog = _build()
    return _catalog


def _ours(cls: type) -> bool:
    module = getattr(cls, "__module__", "") or ""
    return (
        module.startswith("os_vif.objects.")
        and getattr(cls, "OBJ_PROJECT_NAMESPACE", None) == osv_base.NAMESPACE
    )


def _os_vif_classes() -> dict[str, type[ovo_base.VersionedObject]]:
    objects.register_all()
    found: dict[str, type[ovo_base.VersionedObject]] = {}
    registry = ovo_base.VersionedObjectRegistry.obj_classes()
    for name, classes in registry.items():
        for cls in classes:
            if _ours(cls):
                found.setdefault(name, cls)
    return found


def _field_spec(
    cls: type,
    name: str,
    fld: ovo_fields.Field[Any],
    added_in: tuple[int, int],
) -> FieldSpec:
    ftype = _ovo.declared_type(fld)
    common: dict[str, Any] = {
        "name": name,
        "attr": _ovo.attribute(name),
        "nullable": bool(fld.nullable),
        "added_in": added_in,
        "relationship_only": name in getattr(cls, "KEPT_WITH_MANIFEST", ()),
    }
    if isinstance(ftype, ovo_fields.Object):
        objname, subclasses = _ovo.object_type(ftype)
        return FieldSpec(
            kind=OBJ, objname=objname, subclasses=subclasses, **common
        )
    if isinstance(ftype, (ovo_fields.List, ovo_fields.Dict)):
        element = _ovo.element_type(ftype)
        if isinstance(element, ovo_fields.Object):
            objname, subclasses = _ovo.object_type(element)
            return FieldSpec(
                kind=OBJLIST if isinstance(ftype, ovo_fields.List)
                else OBJDICT,
                objname=objname,
                subclasses=subclasses,
                **common,
            )
        if isinstance(ftype, ovo_fields.List) and isinstance(
            element, ovo_fields.IPAddress
        ):
            return FieldSpec(kind=IPLIST, **common)
        raise TypeError("no wire codec for container field %s" % name)
    if isinstance(ftype, ovo_fields.Enum):
        return FieldSpec(
            kind=ENUM, choices=tuple(ftype.valid_values), **common
        )
    if type(ftype) is ovo_fields.IPAddress:
        return FieldSpec(kind=IPADDR, **common)
    for ovo_type, kind in (
        (ovo_fields.UUID, UUID),
        (ovo_fields.MACAddress, MAC),
        (ovo_fields.PCIAddress, PCI),
        (ovo_fields.IPNetwork, IPNET),
        (ovo_fields.Boolean, BOOL),
        (ovo_fields.Integer, INT),
        (ovo_fields.String, STR),
    ):
        if isinstance(ftype, ovo_type):
            return FieldSpec(kind=kind, **common)
    raise TypeError(
        "no wire codec for field %s of type %s" % (name, type(ftype).__name__)
    )


def _required(cls: type) -> frozenset[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(REQUIRED_FIELDS.get(klass.__name__, ()))
    if issubclass(cls, ovo_base.ObjectListBase):
        names.add("objects")
    return frozenset(names)


def _build() -> Catalog:
    classes = _os_vif_classes()
    specs: list[ClassSpec] = []
    for name, cls in sorted(classes.items()):
        version = parse_version(cls.VERSION)
        assert version is not None, (name, cls.VERSION)
        added = _backport.added_in(cls)
        fields = {
            fname: _field_spec(
                cls, fname, fld, added.get(fname, (version[0], 0))
            )
            for fname, fld in cls.fields.items()
        }
        specs.append(
            ClassSpec(
                name=name,
                cls=cls,
                version=cls.VERSION,
                version_tuple=version,
                fields=fields,
                field_list=tuple(fields.values()),
                names=frozenset(fields),
                required=_required(cls),
                is_list=issubclass(cls, ovo_base.ObjectListBase),
                relationships={
                    k: list(v)
                    for k, v in getattr(cls, "obj_relationships", {}).items()
                },
            )
        )
    for spec in specs:
        spec.family = frozenset(
            other.name for other in specs if issubclass(other.cls, spec.cls)
        )
    return Catalog(specs)
