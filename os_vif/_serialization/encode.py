"""Write os_vif objects as OVO primitives and as compact documents.

Both writers walk the object tree once, reading field values straight from
the instances (where oslo.versionedobjects keeps them) and using the
precomputed :mod:`catalog`; no field object is called.

Backporting follows oslo.versionedobjects exactly, so that primitives are
byte for byte what os-vif 5.x writes (``versioned_object.changes`` sorted,
where os-vif 5.x writes them in set order):

* with no target, every object is written at its own version;
* with a target version and no manifest, children follow the parent's
  ``obj_relationships`` (a subclass in a polymorphic field keeps its own
  version);
* with a manifest, an object listed in it by its own name is written at
  that version; a subclass in a polymorphic field whose declared class is
  listed goes at its newest version compatible with that version of the
  declared class (:func:`os_vif.objects.base.version_for_base`; os-vif
  5.x writes it at the declared class's version number, losing fields the
  reader has); an object not listed keeps its own version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from os_vif import exception
from os_vif._serialization import catalog as cat
from os_vif.objects import base as osv_base

__all__ = [
    "NAME",
    "NAMESPACE",
    "VERSION",
    "DATA",
    "CHANGES",
    "TYPE_KEY",
    "VERSION_KEY",
    "to_primitive",
    "to_compact",
]

NAME = "versioned_object.name"
NAMESPACE = "versioned_object.namespace"
VERSION = "versioned_object.version"
DATA = "versioned_object.data"
CHANGES = "versioned_object.changes"

#: Compact format: the keys that state an object's class and version.
TYPE_KEY = "@type"
VERSION_KEY = "@version"

_PLAIN = frozenset({cat.STR, cat.INT, cat.BOOL, cat.UUID, cat.MAC, cat.PCI,
                    cat.ENUM})
_TEXT = frozenset({cat.IPADDR, cat.IPNET})

# Sentinel for "keep the object's own version, no backport below it".
_OWN = None


def _spec(obj: Any) -> cat.ClassSpec:
    spec = cat.catalog().by_class.get(type(obj))
    if spec is None:
        raise exception.InvalidArgument(
            field="object",
            value=type(obj).__name__,
            reason="not an os_vif object class",
        )
    return spec


def _version_tuple(text: str) -> tuple[int, int]:
    parsed = cat.parse_version(text)
    if parsed is None:
        raise exception.InvalidArgument(
            field="version", value=text, reason="not a MAJOR.MINOR version"
        )
    return parsed


def _clamp(wanted: str, own: str) -> str:
    """The lower of two versions: an object is never written above its own."""
    w, o = _version_tuple(wanted), _version_tuple(own)
    if w[0] != o[0]:
        raise exception.InvalidArgument(
            field="version",
            value=wanted,
            reason="os_vif writes only major version %d of this object" % o[0],
        )
    return wanted if w < o else own


def _child_target(
    spec: cat.ClassSpec,
    fspec: cat.FieldSpec,
    parent_version: tuple[int, int],
    child: Any,
    manifest: Mapping[str, str] | None,
) -> str | None:
    """Version to write ``child`` at, _OWN, or TARGET_BEFORE_FIELD.

    ``child`` is None for an object list field (never polymorphic) and for
    a null object field.
    """
    if fspec.subclasses and child is not None:
        child_name = _spec(child).name
        if manifest is not None:
            if child_name in manifest:
                return manifest[child_name]
            declared = fspec.objname or ""
            if child_name != declared and declared in manifest:
                # The entry is the reader's version of the base class: the
                # subclass goes at its newest version compatible with it.
                base = cat.catalog().by_name[declared].cls
                return osv_base.version_for_base(
                    _spec(child).cls, base, manifest[declared]
                )
        elif child_name != fspec.objname:
            rules = spec.relationships.get(fspec.name)
            first = rules[0][0] if rules else "1.0"
            return cat.subobject_version(
                parent_version, [(first, child.VERSION)]
            )
    if manifest is not None:
        return manifest.get(fspec.objname or "", _OWN)
    rules = spec.relationships.get(fspec.name)
    if not rules:
        raise exception.InvalidArgument(
            field=spec.name + "." + fspec.name,
            value=fspec.objname,
            reason="no relationship rule to backport this field",
        )
    return cat.subobject_version(parent_version, rules)


# ---------------------------------------------------------------------------
# OVO primitives


def to_primitive(
    obj: Any, target_version: str | None, manifest: Mapping[str, str] | None
) -> dict[str, Any]:
    """Return the primitive of ``obj``, as os-vif 5.x's obj_to_primitive."""
    spec = _spec(obj)
    own = obj.VERSION
    if target_version is None:
        target_version = own
        if manifest is not None and spec.name in manifest:
            target_version = manifest[spec.name]
    version = _clamp(target_version, own)
    backport = version != own or manifest is not None
    return _primitive(obj, spec, version if backport else _OWN, manifest,
                      top=True)[0]


def _primitive(
    obj: Any,
    spec: cat.ClassSpec,
    version: str | None,
    manifest: Mapping[str, str] | None,
    top: bool,
) -> tuple[dict[str, Any], bool]:
    """Return (primitive, whether obj_what_changed() is non-empty)."""
    values = obj.__dict__
    own = values.get("VERSION") or spec.version
    if version is None:
        write_version = own
        at = None
    else:
        write_version = _clamp(version, own)
        at = cat.parse_version(write_version)
    data: dict[str, Any] = {}
    changed_children: list[str] = []
    for fspec in spec.field_list:
        attr = fspec.attr
        if attr not in values:
            continue
        value = values[attr]
        kind = fspec.kind
        name = fspec.name
        if kind in _PLAIN:
            data[name] = value
        elif kind == cat.OBJ:
            child_version = _OWN
            if at is not None:
                child_version = _child_target(spec, fspec, at, value, manifest)
                if child_version == cat.TARGET_BEFORE_FIELD:
                    continue
            if value is None:
                data[name] = None
                continue
            data[name], changed = _primitive(
                value, _spec(value), child_version, manifest, False
            )
            if changed:
                changed_children.append(name)
        elif value is None:
            data[name] = None
        elif kind in _TEXT:
            data[name] = str(value)
        elif kind == cat.IPLIST:
            data[name] = [str(item) for item in value]
        elif kind == cat.OBJDICT:
            # oslo.versionedobjects never backports the objects of a dict.
            data[name] = {
                key: _primitive(item, _spec(item), _OWN, None, False)[0]
                for key, item in value.items()
            }
        else:  # OBJLIST
            child_version = _OWN
            if at is not None:
                child_version = _child_target(spec, fspec, at, None, manifest)
                if child_version == cat.TARGET_BEFORE_FIELD:
                    continue
            items = []
            any_changed = False
            for item in value:
                prim, changed = _primitive(
                    item, _spec(item), child_version, manifest, False
                )
                items.append(prim)
                any_changed = any_changed or changed
            data[name] = items
            if spec.is_list and any_changed:
                changed_children.append(name)
    changes = set(values.get("_changed_fields", ()))
    if not spec.is_list:
        changes.intersection_update(spec.fields)
    changes.update(changed_children)
    if at is not None and at < spec.version_tuple:
        for fspec in spec.field_list:
            if fspec.added_in > at and not fspec.relationship_only:
                data.pop(fspec.name, None)
    primitive: dict[str, Any] = {
        NAME: spec.name,
        NAMESPACE: "os_vif",
        VERSION: write_version,
        DATA: data,
    }
    if changes:
        if top:
            listed = [name for name in changes if name in data]
        else:
            # A child's list is made before its parent backports it, so it
            # still names the fields the backport removes (as in os-vif).
            listed = [
                name for name in changes if osv_base.STORED + name in values
            ]
        if listed:
            listed.sort()
            primitive[CHANGES] = listed
    return primitive, bool(changes)


# ---------------------------------------------------------------------------
# Compact documents


def to_compact(
    obj: Any, target_version: str | None, manifest: Mapping[str, str] | None
) -> dict[str, Any]:
    """Return the compact document of ``obj``."""
    spec = _spec(obj)
    own = obj.VERSION
    if target_version is None:
        target_version = own
        if manifest is not None and spec.name in manifest:
            target_version = manifest[spec.name]
    version = _clamp(target_version, own)
    backport = version != own or manifest is not None
    return _compact(obj, spec, version if backport else _OWN, manifest, None)


def _compact(
    obj: Any,
    spec: cat.ClassSpec,
    version: str | None,
    manifest: Mapping[str, str] | None,
    implied_version: str | None,
) -> Any:
    """Return the compact form of ``obj``.

    A list object (``SubnetList``...) whose version is the one its parent's
    relationships imply (``implied_version``) is written as a bare array.
    """
    values = obj.__dict__
    own = values.get("VERSION") or spec.version
    if version is None:
        write_version = own
        at = None
        parent_at = cat.parse_version(own)
    else:
        write_version = _clamp(version, own)
        at = cat.parse_version(write_version)
        parent_at = at
    assert parent_at is not None
    doc: dict[str, Any] = {TYPE_KEY: spec.name, VERSION_KEY: write_version}
    for fspec in spec.field_list:
        attr = fspec.attr
        if attr not in values:
            continue
        if (
            at is not None
            and fspec.added_in > at
            and not fspec.relationship_only
        ):
            continue
        value = values[attr]
        kind = fspec.kind
        name = fspec.name
        if kind in _PLAIN:
            doc[name] = value
        elif kind == cat.OBJ:
            child_version = _OWN
            if at is not None:
                child_version = _child_target(spec, fspec, at, value, manifest)
                if child_version == cat.TARGET_BEFORE_FIELD:
                    continue
            if value is None:
                doc[name] = None
                continue
            child_spec = _spec(value)
            implied = None
            if child_spec.is_list:
                implied = implied_list_version(spec, fspec, parent_at)
            doc[name] = _compact(
                value, child_spec, child_version, manifest, implied
            )
        elif value is None:
            doc[name] = None
        elif kind in _TEXT:
            doc[name] = str(value)
        elif kind == cat.IPLIST:
            doc[name] = [str(item) for item in value]
        elif kind == cat.OBJDICT:
            doc[name] = {
                key: _compact(item, _spec(item), _OWN, None, None)
                for key, item in value.items()
            }
        else:  # OBJLIST
            child_version = _OWN
            if at is not None:
                child_version = _child_target(spec, fspec, at, None, manifest)
                if child_version == cat.TARGET_BEFORE_FIELD:
                    continue
            doc[name] = [
                _compact(item, _spec(item), child_version, manifest, None)
                for item in value
            ]
    if spec.is_list and implied_version == write_version:
        return doc.get("objects", [])
    return doc


def implied_list_version(
    parent: cat.ClassSpec, fspec: cat.FieldSpec, parent_at: tuple[int, int]
) -> str | None:
    """Version of the list object a bare compact array stands for.

    It is the version the parent's relationship table gives for the field
    at the parent's version; None if the table has no answer.
    """
    rules = parent.relationships.get(fspec.name)
    if not rules:
        return None
    version = cat.subobject_version(parent_at, rules)
    if version == cat.TARGET_BEFORE_FIELD:
        return None
    return version
