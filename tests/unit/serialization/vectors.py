"""The stored payloads every test of this package runs over.

``tests/vectors`` holds what real releases wrote (see its README): os-vif
5.3.0 at every version with and without manifests, older os-vif releases,
and what kuryr-kubernetes stored.  Vectors where the producer failed hold
no primitive and are left out.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2] / "vectors"
CHANGES = "versioned_object.changes"


def load() -> list[tuple[str, dict[str, Any]]]:
    """Return ``(id, vector)`` for every vector with a primitive."""
    found = []
    for path in sorted(ROOT.glob("**/*.json")):
        for vector in json.loads(path.read_text())["vectors"]:
            if vector.get("primitive") is None or vector.get("error"):
                continue
            vector_id = "%s:%s" % (path.parent.name, vector["id"])
            found.append((vector_id, vector))
    return found


VECTORS = load()
IDS = [vector_id for vector_id, _ in VECTORS]
PRIMITIVES = [vector["primitive"] for _, vector in VECTORS]


def canonical(primitive: Any) -> Any:
    """``primitive`` with every ``versioned_object.changes`` list sorted.

    os-vif writes that list in the iteration order of a set, which varies
    between processes; we write it sorted.  Key order is kept.
    """
    if isinstance(primitive, dict):
        return {
            key: sorted(value) if key == CHANGES else canonical(value)
            for key, value in primitive.items()
        }
    if isinstance(primitive, list):
        return [canonical(item) for item in primitive]
    return primitive


def reemitted(primitive: Any) -> Any:
    """``primitive`` as written again after loading.

    :func:`canonical`, and a nested object's change list keeps only the
    fields its data holds: os-vif lists there the fields a backport removed,
    and neither os-vif nor we write a field that is not set.
    """
    if isinstance(primitive, dict):
        result = {}
        data = primitive.get("versioned_object.data")
        for key, value in primitive.items():
            if key == CHANGES:
                kept = sorted(n for n in value if n in (data or {}))
                if kept:
                    result[key] = kept
            else:
                result[key] = reemitted(value)
        return result
    if isinstance(primitive, list):
        return [reemitted(item) for item in primitive]
    return primitive


def without_changes(primitive: Any) -> Any:
    """``primitive`` without the change-tracking lists."""
    if isinstance(primitive, dict):
        return {
            key: without_changes(value)
            for key, value in primitive.items()
            if key != CHANGES
        }
    if isinstance(primitive, list):
        return [without_changes(item) for item in primitive]
    return primitive


#: The os-vif 5.3.0 vectors where it lost fields the reader has (issue
#: 14): a manifest naming ``VIFPortProfileBase`` made it write the Open
#: vSwitch profiles (``VIFOpenVSwitch``: ``VIFPortProfileOpenVSwitch``,
#: ``VIFVHostUser``: ``VIFPortProfileFPOpenVSwitch``) at the base's
#: version number, 1.1 for 1.1 (``tree-current``) and 1.0 for 1.0
#: (``tree-oldest``).  We write them at 1.4 and 1.1: see
#: :func:`assert_keeps_what_530_lost`.
LOSSY_IN_530: frozenset[str] = frozenset(
    "%s/%s@%s+%s" % (obj, sample, version, manifest)
    for obj, versions in (
        ("VIFOpenVSwitch", ("1.0",)),
        ("VIFVHostUser", ("1.0", "1.1")),
    )
    for sample in ("populated", "nulls", "representor")
    if sample != "representor" or obj == "VIFOpenVSwitch"
    for version in versions
    for manifest in ("tree-current", "tree-oldest")
)

_NAME = "versioned_object.name"
_VERSION = "versioned_object.version"
_DATA = "versioned_object.data"


def assert_keeps_what_530_lost(
    ours: Any, theirs: Any, manifest: dict[str, str], declared: str = ""
) -> int:
    """Check that ``ours`` is 5.3.0's ``theirs`` minus its loss.

    Objects correspond one to one.  Where versions differ, the object
    sits in a field declared with a base class the manifest names; 5.3.0
    wrote it at the base's version, we at the newest version of its own
    class compatible with it (``version_for_base``), with every field
    5.3.0 wrote, same value, and the fields of that version it dropped.
    Returns how many objects differ.
    """
    from os_vif.objects import base as osv_base
    from tests.unit.objects import populate

    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        return sum(
            assert_keeps_what_530_lost(o, t, manifest)
            for o, t in zip(ours, theirs, strict=True)
        )
    if not isinstance(theirs, dict) or _DATA not in theirs:
        assert ours == theirs
        return 0
    classes = populate.os_vif_classes()
    name = theirs[_NAME]
    assert ours[_NAME] == name
    differs = int(ours[_VERSION] != theirs[_VERSION])
    if differs:
        assert declared and declared in manifest, (name, declared)
        assert theirs[_VERSION] == manifest[declared]
        assert ours[_VERSION] == osv_base.version_for_base(
            classes[name], classes[declared], manifest[declared]
        )
        extra = set(ours[_DATA]) - set(theirs[_DATA])
        assert extra, "a differing version must carry more"
        data = {field: None for field in classes[name].fields}
        osv_base.drop_fields_newer_than(
            data, ours[_VERSION], classes[name].VERSION_STEPS
        )
        assert extra <= set(data), extra
    else:
        assert set(ours[_DATA]) == set(theirs[_DATA])
    fields = classes[name].fields
    for key, value in theirs[_DATA].items():
        objname = getattr(fields[key], "objname", "") if key in fields else ""
        differs += assert_keeps_what_530_lost(
            ours[_DATA][key], value, manifest, objname or ""
        )
    return differs
