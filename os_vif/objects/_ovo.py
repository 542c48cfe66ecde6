"""The one module that knows how oslo.versionedobjects lays out an object.

oslo.versionedobjects keeps, none of it public API:

* the value of a set field in the instance attribute ``_obj_<name>``;
* the names of the fields changed since construction or loading in
  ``_changed_fields``, and the request context in ``_context``;
* during ``obj_to_primitive(version_manifest=...)``, the manifest in
  ``_obj_version_manifest``;
* a field's declared type in ``Field._type``; an object type's class name
  and whether it takes subclasses in ``Object._obj_name`` and
  ``Object._subclasses``; a list's or dict's element field in
  ``_element_type``;
* a class's fields in its ``fields`` dict (the inherited ones added when
  the class is registered), which :func:`declare` fills;
* two hooks os_vif overrides: ``_obj_from_primitive`` and
  ``_obj_relationship_for``;
* ``_make_class_properties(cls)``, which registration calls to give a
  class one property per field: for os_vif's classes, the properties'
  readers are replaced by :func:`_reader`'s (see there).

os_vif reads this state directly where the public route is too slow (the
serialisers and the plugins' field reader skip the per-field properties,
which cost a method call and a ``hasattr`` per read) or does not exist (a
field's declared type).  Every other os_vif module goes through the
functions here; ``tests/unit/objects/test_ovo_layout.py`` checks each of
these names on real objects of the installed oslo.versionedobjects, and
that no other os_vif module uses them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields as ovo_fields

__all__ = [
    "VERIFIED_WITH",
    "FIELD_PREFIX",
    "CHANGED_FIELDS",
    "attribute",
    "ATTRIBUTES",
    "storage",
    "value_or",
    "is_set",
    "changed_fields",
    "new_loaded",
    "active_manifest",
    "declared_type",
    "element_type",
    "object_type",
    "accepts_subclasses",
    "Hooks",
    "declare",
]

#: The oslo.versionedobjects release this layout was last verified with
#: (the layout test names the installed one when it fails).
VERIFIED_WITH = "3.12.0"

#: The prefix of the instance attribute holding a set field's value.
FIELD_PREFIX = "_obj_"
#: The instance attribute holding the set (a ``set``) of changed fields
#: (what :func:`changed_fields` reads; the primitive writer reads it inline).
CHANGED_FIELDS = "_changed_fields"
_CHANGES = CHANGED_FIELDS
_CONTEXT = "_context"
_MANIFEST = "_obj_version_manifest"

#: A version manifest (class name -> version), or None: there is none.
Manifest = Mapping[str, str] | None


class _Attributes(dict[str, str]):
    """Field name -> :func:`attribute`, made once per name."""

    def __missing__(self, field: str) -> str:
        name = self[field] = FIELD_PREFIX + field
        return name


#: :func:`attribute` as a mapping (a subscript costs less than a call).
ATTRIBUTES: Mapping[str, str] = _Attributes()
_ATTRIBUTES = ATTRIBUTES


def attribute(field: str) -> str:
    """The instance attribute holding the value of ``field`` when set."""
    return _ATTRIBUTES[field]


#: ``storage(obj)``: the instance storage of ``obj``, :func:`attribute`
#: names -> values (the builtin ``vars``: the serialisers call it for every
#: object they write).  Read only: writing to it bypasses change tracking
#: and coercion.
storage = vars


def value_or(obj: Any, field: str, default: Any = None) -> Any:
    """The value of ``obj.field`` if set, else ``default``; one lookup."""
    return obj.__dict__.get(FIELD_PREFIX + field, default)


def is_set(obj: Any, field: str) -> bool:
    """Tell whether ``field`` (a field of ``obj``'s class) has a value."""
    return FIELD_PREFIX + field in obj.__dict__


def changed_fields(stored: Mapping[str, Any]) -> Iterable[str]:
    """The fields recorded as changed in ``stored`` (see :func:`storage`).

    Fields of nested objects are not looked at (``obj_what_changed`` does).
    """
    return stored.get(_CHANGES, ())


def new_loaded(
    cls: type[ovo_base.VersionedObject],
    values: Mapping[str, Any],
    changes: set[str] | None,
    version: str,
) -> Any:
    """An instance of ``cls`` at ``version`` holding ``values`` (field name
    -> value), as loaded from data.

    Built without the constructor (which may set defaults the data did not
    have) and without coercion: the values must already be of their
    fields' types.  ``changes`` becomes the set of changed fields (None:
    every field in ``values``, as if constructed with them); a ``version``
    other than the class's is recorded on the instance, as
    ``obj_from_primitive`` records the version it loaded.
    """
    obj = cls.__new__(cls)
    state = obj.__dict__
    state[_CONTEXT] = None
    attributes = _ATTRIBUTES
    for name, value in values.items():
        state[attributes[name]] = value
    state[_CHANGES] = set(values) if changes is None else changes
    if version != cls.VERSION:
        state["VERSION"] = version
    return obj


def active_manifest(obj: Any) -> dict[str, str] | None:
    """The version manifest of the ``obj_to_primitive`` call in progress.

    None outside one, or when it was called without a manifest.
    """
    return getattr(obj, _MANIFEST, None)


def declared_type(fld: ovo_fields.Field[Any]) -> Any:
    """The field type a field was declared with (``String()``...)."""
    return fld._type  # noqa: SLF001


def element_type(container: Any) -> Any:
    """The element field type of a ``List`` or ``Dict`` field type."""
    return container._element_type._type  # noqa: SLF001


def object_type(ftype: Any) -> tuple[str, bool]:
    """(declared class name, accepts subclasses) of an ``Object`` type."""
    return ftype._obj_name, bool(ftype._subclasses)  # noqa: SLF001


def accepts_subclasses(fld: ovo_fields.Field[Any]) -> bool:
    """Tell whether an object field accepts subclasses of its class."""
    ftype = declared_type(fld)
    return isinstance(ftype, ovo_fields.Object) and object_type(ftype)[1]


def declare(field: ovo_fields.Field) -> Any:
    """Declare a field of an os_vif object class, with its type, at once.

    In the class body, ``vif_name: str = declare(fields.StringField())``
    puts the field in the class's ``fields`` (in the order declared) and
    tells the type checker what reading it gives: one declaration, where
    a ``fields`` dict needs every name again for the type checker.
    """
    return field


def _reader(name: str) -> Any:
    """The property reader of field ``name`` on os_vif's objects.

    What oslo.versionedobjects' own reader does -- the stored value, else
    ``obj_load_attr(name)`` (which raises for an unset field) -- in one
    dictionary look-up: its reader makes the attribute's name and asks
    ``hasattr`` on every read, which doubles what a typed read such as
    ``vif.network`` costs, and plugins read a VIF's fields by the dozen
    per VIF when they plan or check hundreds.
    """
    stored = attribute(name)

    def read(self: Any) -> Any:
        try:
            return self.__dict__[stored]
        except KeyError:
            self.obj_load_attr(name)
            return getattr(self, stored)

    read.__name__ = name
    return read


_make_class_properties = ovo_base._make_class_properties  # noqa: SLF001


def _make_properties(cls: Any) -> None:
    """oslo.versionedobjects' properties; os_vif's read by :func:`_reader`.

    Other classes (nova's, kuryr's own objects) keep theirs untouched.
    """
    _make_class_properties(cls)
    if not issubclass(cls, Hooks):
        return
    for name in cls.fields:
        made = vars(cls).get(name)
        if isinstance(made, property):
            setattr(cls, name, property(_reader(name), made.fset, made.fdel))


ovo_base._make_class_properties = _make_properties  # noqa: SLF001


class Hooks(ovo_base.VersionedObject):
    """oslo.versionedobjects' private hooks, routed to os_vif's rules.

    The base of :class:`os_vif.objects.base.VersionedObject`, which
    supplies :meth:`child_relationship` and :meth:`keep_loaded_only`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # What declare() left as class attributes becomes the class's own
        # fields; registering the class adds the inherited ones and makes
        # the properties that read them.
        declared = {
            name: value
            for name, value in vars(cls).items()
            if isinstance(value, ovo_fields.Field)
        }
        for name in declared:
            delattr(cls, name)
        if declared:
            cls.fields = {**vars(cls).get("fields", {}), **declared}

    def child_relationship(
        self, field: str, target_version: str, manifest: Manifest
    ) -> list[tuple[str, str]] | None:
        """The relationship rules to backport the object in ``field``.

        None: oslo.versionedobjects' own rule applies.
        """
        return None

    @classmethod
    def keep_loaded_only(cls, obj: Any, data: Mapping[str, Any]) -> None:
        """Adjust ``obj``, just loaded from a primitive's ``data``."""

    def _obj_relationship_for(
        self, field: str, target_version: str
    ) -> list[tuple[str, str]] | None:
        rules = self.child_relationship(
            field, target_version, active_manifest(self)
        )
        if rules is not None:
            return rules
        return super()._obj_relationship_for(field, target_version)

    @classmethod
    def _obj_from_primitive(
        cls, context: Any, objver: str, primitive: dict[str, Any]
    ) -> Any:
        obj = super()._obj_from_primitive(context, objver, primitive)
        cls.keep_loaded_only(obj, primitive[cls._obj_primitive_key("data")])
        return obj
