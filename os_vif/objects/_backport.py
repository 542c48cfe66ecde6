"""The backport rules of os_vif objects: one place, two walks use them.

Which fields an object has at a version (its ``VERSION_STEPS``), and at
which version the object in a field is written for a parent backported to
a target (:func:`child_rules`).  The serialisers' walk
(:mod:`os_vif._serialization.encode`) and oslo.versionedobjects'
``obj_to_primitive`` (through
:meth:`os_vif.objects.base.VersionedObject.child_relationship`) both
follow them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from oslo_utils import versionutils

__all__ = ["added_in", "child_rules", "version_for_base"]


def added_in(cls: type) -> dict[str, tuple[int, int]]:
    """Field -> the version of ``cls`` that introduced it, for the fields
    its ``VERSION_STEPS`` name (the others came with its first version)."""
    steps: Mapping[str, tuple[str, ...]] = getattr(cls, "VERSION_STEPS", {})
    added: dict[str, tuple[int, int]] = {}
    for version, names in steps.items():
        at = versionutils.convert_version_to_tuple(version)
        for name in names:
            added[name] = (at[0], at[1])
    return added


def _fields_at(cls: type, at: tuple[int, ...]) -> set[str]:
    """The fields ``cls`` has at version ``at``, from its VERSION_STEPS."""
    added = added_in(cls)
    return {
        name
        for name in getattr(cls, "fields", {})
        if added.get(name, (0, 0)) <= at
    }


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


def child_rules(
    relationships: Mapping[str, Sequence[tuple[str, str]]],
    field: str,
    declared: str | None,
    subclasses: bool,
    child: Any,
    manifest: Mapping[str, str] | None,
    target_version: str,
) -> Sequence[tuple[str, str]] | None:
    """The relationship rules that backport the object(s) in ``field``.

    The one backport rule of os_vif, followed by the serialisers' walk and,
    through :meth:`VersionedObject.child_relationship`, by
    oslo.versionedobjects' ``obj_to_primitive``.  The answer is a list of
    ``(parent version, child version)`` pairs as in ``obj_relationships``:
    the child goes at the version paired with ``target_version`` (the
    parent's); None means, with a manifest, that the child keeps its own
    version and, without one, that there is no rule.

    ``relationships`` is the parent's ``obj_relationships``, ``declared``
    and ``subclasses`` describe the field, ``child`` is the object in it
    (None for a list field or a null value).

    A field declared with subclasses=True holds any subclass of its
    declared class, each versioned on its own, so the declared class's
    version says nothing about the subclass's:

    - a manifest entry for the actual class wins over the declared class's
      entry (oslo.versionedobjects only looks at the latter);
    - an entry for the declared class only says which of its fields the
      reader knows: the subclass goes at its newest version compatible with
      that (:func:`version_for_base`; oslo.versionedobjects would write it
      at the base's version number and lose its newer fields);
    - without a manifest, a subclass keeps its own version, from the first
      version of the parent that had the field.
    """
    if subclasses and child is not None:
        name = child.obj_name()
        if manifest is not None:
            if name in manifest:
                return [(target_version, manifest[name])]
            if declared is not None and name != declared and (
                declared in manifest
            ):
                base = _declared_class(child, declared)
                if base is not None:
                    return [
                        (
                            target_version,
                            version_for_base(
                                type(child), base, manifest[declared]
                            ),
                        )
                    ]
        elif name != declared:
            rules = relationships.get(field)
            first = rules[0][0] if rules else "1.0"
            return [(first, child.VERSION)]
    if manifest is not None:
        if declared is not None and declared in manifest:
            return [(target_version, manifest[declared])]
        return None
    found = relationships.get(field)
    return found or None


def _declared_class(child: Any, declared: str) -> type | None:
    """The class named ``declared`` among ``child``'s bases."""
    for klass in type(child).__mro__:
        if klass.__dict__.get("VERSION") and klass.__name__ == declared:
            return klass
    return None
