"""Write os_vif objects as OVO primitives and as compact documents.

One walk (:func:`_walk`) goes over the object tree once, reading field
values straight from the instances (through :mod:`os_vif.objects._ovo`)
and using the precomputed :mod:`catalog`; no field object is called.  It
decides what is written at which version; a writer per format
(:class:`_PrimitiveWriter`, :class:`_CompactWriter`) gives each object its
envelope.

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
from os_vif.objects import _backport, _ovo

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
# A field not set.
_UNSET = object()
# Module constants the walk compares every field with, bound here once.
_OBJ = cat.OBJ
_OBJLIST = cat.OBJLIST
_IPLIST = cat.IPLIST
_BEFORE_FIELD = cat.TARGET_BEFORE_FIELD


# The catalog's classes, copied on the first write: the walk looks up the
# class of every nested object here, without a call.
_by_class: dict[type, cat.ClassSpec] = {}


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


def _child_version(
    spec: cat.ClassSpec,
    fspec: cat.FieldSpec,
    write_version: str,
    at: tuple[int, int],
    child: Any,
    manifest: Mapping[str, str] | None,
) -> str | None:
    """Version to write ``child`` at, _OWN, or TARGET_BEFORE_FIELD.

    The rule is :func:`os_vif.objects._backport.child_rules`.  ``child`` is
    None for an object list field (never polymorphic) and a null object
    field.
    """
    rules = _backport.child_rules(
        spec.relationships,
        fspec.name,
        fspec.objname,
        fspec.subclasses,
        child,
        manifest,
        write_version,
    )
    if rules is None:
        if manifest is not None:
            return _OWN
        raise exception.InvalidArgument(
            field=spec.name + "." + fspec.name,
            value=fspec.objname,
            reason="no relationship rule to backport this field",
        )
    return cat.subobject_version(at, rules)


# ---------------------------------------------------------------------------
# The walk


class _Writer:
    """What one format makes of what the walk decides.

    The walk (:func:`_walk`) decides which fields an object is written
    with, at which version each nested object goes, and converts the
    values of scalar fields; the writer gives the object its envelope.
    """

    #: Whether the format records changed fields (the walk then reports,
    #: for each object, whether ``obj_what_changed()`` is non-empty).
    tracks_changes = False
    #: Whether the format writes a list object as a bare array where its
    #: version is the one its parent implies.
    bare_lists = False
    #: The keys stating an object's class and version ahead of its fields,
    #: in the dict the walk puts the fields in; None: the walk starts with
    #: an empty dict (data, not a method: the walk runs for every object).
    head: tuple[str, str] | None = None

    def finish(self, spec: cat.ClassSpec, stored: Mapping[str, Any],
               out: dict[str, Any], version: str, changed_children: list[str],
               top: bool, implied: str | None) -> tuple[Any, bool]:
        """(the written object, whether it has changes)."""
        raise NotImplementedError


class _PrimitiveWriter(_Writer):
    """OVO primitives: the fields under ``versioned_object.data``."""

    tracks_changes = True

    def finish(self, spec: cat.ClassSpec, stored: Mapping[str, Any],
               out: dict[str, Any], version: str, changed_children: list[str],
               top: bool, implied: str | None) -> tuple[Any, bool]:
        changed = stored.get(_ovo.CHANGED_FIELDS)
        if changed is None:
            changes = set(changed_children)
        else:
            # A set (see _ovo): "&" makes the copy and keeps the fields.
            changes = set(changed) if spec.is_list else changed & spec.names
            changes.update(changed_children)
        primitive: dict[str, Any] = {
            NAME: spec.name,
            NAMESPACE: "os_vif",
            VERSION: version,
            DATA: out,
        }
        if changes:
            if top:
                listed = [name for name in changes if name in out]
            else:
                # A child's list is made before its parent backports it, so
                # it still names the fields the backport removes (as in
                # os-vif).
                attrs = _ovo.ATTRIBUTES
                listed = [name for name in changes if attrs[name] in stored]
            if listed:
                listed.sort()
                primitive[CHANGES] = listed
        return primitive, bool(changes)


class _CompactWriter(_Writer):
    """Compact documents: ``@type``, ``@version``, then the fields."""

    bare_lists = True
    head = (TYPE_KEY, VERSION_KEY)

    def finish(self, spec: cat.ClassSpec, stored: Mapping[str, Any],
               out: dict[str, Any], version: str, changed_children: list[str],
               top: bool, implied: str | None) -> tuple[Any, bool]:
        if spec.is_list and implied == version:
            return out.get("objects", []), False
        return out, False


_PRIMITIVE = _PrimitiveWriter()
_COMPACT = _CompactWriter()


def to_primitive(
    obj: Any, target_version: str | None, manifest: Mapping[str, str] | None
) -> dict[str, Any]:
    """Return the primitive of ``obj``, as os-vif 5.x's obj_to_primitive."""
    return _write(obj, target_version, manifest, _PRIMITIVE)


def to_compact(
    obj: Any, target_version: str | None, manifest: Mapping[str, str] | None
) -> dict[str, Any]:
    """Return the compact document of ``obj``."""
    return _write(obj, target_version, manifest, _COMPACT)


def _write(
    obj: Any,
    target_version: str | None,
    manifest: Mapping[str, str] | None,
    writer: _Writer,
) -> Any:
    spec = _spec(obj)
    if not _by_class:
        _by_class.update(cat.catalog().by_class)
    own = obj.VERSION
    if target_version is None:
        target_version = own
        if manifest is not None and spec.name in manifest:
            target_version = manifest[spec.name]
    version = _clamp(target_version, own)
    backport = version != own or manifest is not None
    return _walk(
        obj, spec, version if backport else _OWN, manifest, writer, True, None
    )[0]


def _walk(
    obj: Any,
    spec: cat.ClassSpec,
    version: str | None,
    manifest: Mapping[str, str] | None,
    writer: _Writer,
    top: bool,
    implied: str | None,
) -> tuple[Any, bool]:
    """Write ``obj`` at ``version`` (_OWN: its own, nothing backported).

    Returns what ``writer`` made of it and whether it has changes (always
    False for a writer that does not track them).  ``implied`` is the
    version the parent's relationships give a list object (see
    :func:`implied_list_version`).
    """
    values = _ovo.storage(obj)
    own = values.get("VERSION") or spec.version
    if version is None:
        write_version = own
        at = None
    else:
        write_version = _clamp(version, own)
        at = cat.parse_version(write_version)
    head = writer.head
    out: dict[str, Any] = (
        {} if head is None else {head[0]: spec.name, head[1]: write_version}
    )
    changed_children: list[str] = []
    fields = spec.field_list
    if at is not None:
        fields, left_out = spec.written_at(at)
        if left_out and writer.tracks_changes:
            # Not in the target version; their changes still count.
            for fspec in left_out:
                value = values.get(fspec.attr)
                if fspec.kind == _OBJ and value is not None and (
                    _has_changes(value)
                ):
                    changed_children.append(fspec.name)
    for fspec in fields:
        value = values.get(fspec.attr, _UNSET)
        if value is _UNSET:
            continue
        kind = fspec.kind
        name = fspec.name
        if kind in _PLAIN:
            out[name] = value
        elif kind == _OBJ or (kind == _OBJLIST and value is not None):
            child_version = _OWN
            if at is not None:
                child_version = _child_version(
                    spec,
                    fspec,
                    write_version,
                    at,
                    value if kind == _OBJ else None,
                    manifest,
                )
                if child_version == _BEFORE_FIELD:
                    continue
            if kind == _OBJLIST:
                any_changed = False
                items = []
                for item in value:
                    written, changed = _walk(
                        item,
                        _by_class.get(type(item)) or _spec(item),
                        child_version,
                        manifest,
                        writer,
                        False,
                        None,
                    )
                    items.append(written)
                    any_changed = any_changed or changed
                out[name] = items
                if spec.is_list and any_changed:
                    changed_children.append(name)
                continue
            if value is None:
                out[name] = None
                continue
            child_spec = _by_class.get(type(value)) or _spec(value)
            child_implied = None
            if writer.bare_lists and child_spec.is_list:
                child_implied = implied_list_version(
                    spec, fspec, at or cat.parse_version(own) or (0, 0)
                )
            out[name], changed = _walk(
                value, child_spec, child_version, manifest, writer, False,
                child_implied,
            )
            if changed:
                changed_children.append(name)
        elif value is None:
            out[name] = None
        elif kind in _TEXT:
            out[name] = str(value)
        elif kind == _IPLIST:
            out[name] = [str(item) for item in value]
        else:  # OBJDICT: oslo.versionedobjects never backports its objects
            out[name] = {
                key: _walk(
                    item,
                    _by_class.get(type(item)) or _spec(item),
                    _OWN,
                    None,
                    writer,
                    False,
                    None,
                )[0]
                for key, item in value.items()
            }
    return writer.finish(
        spec, values, out, write_version, changed_children, top, implied
    )


def _has_changes(obj: Any) -> bool:
    """Whether ``obj.obj_what_changed()`` is non-empty, for a field the
    walk leaves out (the primitive writer learns it from the walk for the
    others)."""
    spec = _spec(obj)
    values = _ovo.storage(obj)
    changes = set(_ovo.changed_fields(values))
    if not spec.is_list:
        changes.intersection_update(spec.fields)
    if changes:
        return True
    for fspec in spec.field_list:
        value = values.get(fspec.attr)
        if value is None:
            continue
        if fspec.kind == cat.OBJ and _has_changes(value):
            return True
        if fspec.kind == cat.OBJLIST and spec.is_list and any(
            _has_changes(item) for item in value
        ):
            return True
    return False


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
