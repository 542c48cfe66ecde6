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
