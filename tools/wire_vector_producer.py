"""Emit wire vectors from the os-vif release installed in *this* interpreter.

Run by ``tools/make_wire_vectors.py`` with the Python of an isolated venv
that holds one os-vif release (never with the project's own venv); it
imports that release's ``os_vif`` and ``tests/wire_samples.py`` and prints
one JSON document on stdout.  Not meant to be imported.

Modes:

``all-versions``
    every sample at every version of its major (1.0 .. current), without a
    version manifest and with two manifests (``tree-current`` and
    ``tree-oldest``, see ``tests/vectors/README.rst``); a backport that
    raises is recorded as an error vector.
``current``
    every sample at the release's own current version, no manifest (what
    that release writes when nobody asks for a backport).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import sys
import warnings
from typing import Any

CHANGES_KEY = "versioned_object.changes"


def normalise(value: Any) -> Any:
    """Sort OVO's ``changes`` lists, which it builds from a set."""
    if isinstance(value, dict):
        out = {key: normalise(item) for key, item in value.items()}
        if isinstance(out.get(CHANGES_KEY), list):
            out[CHANGES_KEY] = sorted(out[CHANGES_KEY])
        return out
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


def versions_of_major(current: str) -> list[str]:
    """1.0 .. current, for the current version's major."""
    major, minor = (int(part) for part in current.split("."))
    return [f"{major}.{m}" for m in range(minor + 1)]


def manifests(obj_name: str, target: str) -> list[tuple[str, dict[str, str]]]:
    """The version manifests tried besides ``None``.

    ``tree-current``: oslo.versionedobjects' own ``obj_tree_get_versions``
    for the object (every object reachable through its fields, by the
    field's declared class name) at this release's versions, with the
    object itself at ``target``.  ``tree-oldest``: the same names, all at
    ``<major>.0`` (a peer that knows only the first version of each).
    ``self-only``: just ``{obj_name: target}``, so that no nested object
    is backported (the smallest manifest that sidesteps the missing
    ``obj_relationships`` rules of some 5.3.0 objects).
    """
    from oslo_versionedobjects import base

    tree = dict(base.obj_tree_get_versions(obj_name))
    current = dict(tree)
    current[obj_name] = target
    oldest = {
        name: version.split(".")[0] + ".0" for name, version in tree.items()
    }
    oldest[obj_name] = target
    return [
        ("tree-current", current),
        ("tree-oldest", oldest),
        ("self-only", {obj_name: target}),
    ]


def emit(
    obj: Any, target: str | None, manifest: dict[str, str] | None
) -> dict[str, Any]:
    """The primitive, or the error the release raised while backporting."""
    try:
        primitive = obj.obj_to_primitive(
            target_version=target, version_manifest=manifest
        )
    except Exception as exc:  # recorded, not hidden: the point of the vector
        return {
            "primitive": None,
            "error": {"type": type(exc).__name__, "message": str(exc)},
        }
    return {"primitive": normalise(primitive), "error": None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["all-versions", "current"])
    parser.add_argument(
        "--tests-dir", required=True, help="directory holding wire_samples.py"
    )
    parser.add_argument("--producer", default="os-vif")
    args = parser.parse_args()

    warnings.simplefilter("ignore")
    import os_vif

    # Guard against the project's own os_vif leaking onto sys.path.
    if not os_vif.__file__ or not os_vif.__file__.startswith(sys.prefix):
        raise SystemExit(f"os_vif comes from {os_vif.__file__}, not this venv")
    sys.path.insert(0, args.tests_dir)
    import wire_samples

    release = importlib.metadata.version("os-vif")
    vectors: list[dict[str, Any]] = []
    versions: dict[str, str] = {}
    for sample in wire_samples.build_samples():
        current = sample.obj.VERSION
        stem = f"{sample.object_name}/{sample.sample_name}"
        versions[sample.object_name] = current
        common = {
            "object": sample.object_name,
            "sample": sample.sample_name,
            "producer": args.producer,
            "release": release,
        }
        if args.mode == "current":
            vectors.append(
                {
                    **common,
                    "id": f"{stem}@{current}",
                    "target_version": current,
                    "manifest_kind": None,
                    "version_manifest": None,
                    **emit(sample.obj, None, None),
                }
            )
            continue
        for target in versions_of_major(current):
            vectors.append(
                {
                    **common,
                    "id": f"{stem}@{target}",
                    "target_version": target,
                    "manifest_kind": None,
                    "version_manifest": None,
                    **emit(sample.obj, target, None),
                }
            )
            for kind, manifest in manifests(sample.object_name, target):
                vectors.append(
                    {
                        **common,
                        "id": f"{stem}@{target}+{kind}",
                        "target_version": target,
                        "manifest_kind": kind,
                        "version_manifest": manifest,
                        **emit(sample.obj, target, manifest),
                    }
                )
    document = {
        "producer": args.producer,
        "release": release,
        "environment": {
            "python": platform.python_version(),
            "oslo.versionedobjects": importlib.metadata.version(
                "oslo.versionedobjects"
            ),
        },
        "object_versions": versions,
        "vectors": vectors,
    }
    json.dump(document, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
