"""Count the VIFs a version manifest sends whole, as a new user would.

A peer with exactly the versions of the sender advertises its manifest
(``oslo_versionedobjects.base.obj_tree_get_versions(vif)``), which names
the declared classes of polymorphic fields (``VIFPortProfileBase``,
``DatapathOffloadBase``), not the concrete port profile.  For each VIF type
x port profile, the VIF is written for that manifest and loaded back; it is
"whole" when every field set on the original, nested objects included, is
set to the same value on the loaded copy.

Runs with any interpreter that has an ``os_vif``: the project's own venv
(paths ``obj_to_primitive`` and ``serialization.to_primitive``) or an
isolated venv holding a release such as os-vif 5.3.0 (``obj_to_primitive``
only)::

    .venv/bin/python tools/manifest_loss.py
    /work/oracle/rpc/venv530/bin/python tools/manifest_loss.py
    .venv/bin/python tools/manifest_loss.py --all     # every VIF x profile

Prints one JSON document: per path, combinations tried, kept whole, and
the fields lost in the others.  A dev tool, not run in CI.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import sys
import warnings
from typing import Any

# The samples module is loaded by file: putting the repository on sys.path
# would shadow the interpreter's own os_vif with the project's.
_SAMPLES = pathlib.Path(__file__).resolve().parents[1] / "tests" / (
    "wire_samples.py"
)

#: What a new user tries: the VIF types nova's Open vSwitch and Linux
#: bridge back ends produce, with the profiles those back ends use.
USER_VIFS = ("VIFOpenVSwitch", "VIFBridge", "VIFVHostUser")
USER_PROFILES = (
    "VIFPortProfileOpenVSwitch",
    "VIFPortProfileFPOpenVSwitch",
    "VIFPortProfileOVSRepresentor",
    "VIFPortProfileFPBridge",
    "VIFPortProfileFPTap",
)


def _load_samples() -> Any:
    spec = importlib.util.spec_from_file_location("wire_samples", _SAMPLES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["wire_samples"] = module
    spec.loader.exec_module(module)
    return module


def set_fields(obj: Any, path: str = "") -> dict[str, Any]:
    """Every set field of ``obj`` and its nested objects, by path."""
    from oslo_versionedobjects import base as ovo_base

    found: dict[str, Any] = {}
    for name in sorted(obj.fields):
        if not obj.obj_attr_is_set(name):
            continue
        value = getattr(obj, name)
        where = path + name
        if isinstance(value, ovo_base.ObjectListBase):
            for index, item in enumerate(value.objects):
                found.update(set_fields(item, "%s[%d]." % (where, index)))
        elif isinstance(value, ovo_base.VersionedObject):
            found[where + "@class"] = value.obj_name()
            found.update(set_fields(value, where + "."))
        else:
            found[where] = str(value)
    return found


def run(all_combinations: bool) -> dict[str, Any]:
    from oslo_versionedobjects import base as ovo_base

    samples = _load_samples()
    classes = samples.load_classes()
    builder = samples._Builder(classes)  # noqa: SLF001
    # The os_vif namespace's loader (OVO's own base reads only its own).
    loader = classes["VIFBase"]
    vifs = USER_VIFS
    profiles = USER_PROFILES
    if all_combinations:
        vifs = tuple(
            n for n in samples._VIF_SPECS if n != "VIFBase"  # noqa: SLF001
            if builder.has(n)
        )
        profiles = tuple(
            n
            for n in samples._PROFILES  # noqa: SLF001
            if n != "VIFPortProfileBase" and builder.has(n)
        )
    paths: dict[str, Any] = {
        "obj_to_primitive": lambda vif, manifest: vif.obj_to_primitive(
            target_version=vif.VERSION, version_manifest=manifest
        ),
    }
    try:
        from os_vif import serialization
    except ImportError:  # releases before the supported serialisation
        pass
    else:
        paths["serialization.to_primitive"] = (
            lambda vif, manifest: serialization.to_primitive(vif, manifest)
        )
    report: dict[str, Any] = {}
    for path_name, write in paths.items():
        kept, lost = 0, {}
        for vif_name in vifs:
            for profile_name in profiles:
                profile = samples._PROFILES[profile_name](builder)  # noqa: SLF001
                vif = samples._vif(builder, vif_name, profile)  # noqa: SLF001
                manifest = ovo_base.obj_tree_get_versions(vif.obj_name())
                loaded = loader.obj_from_primitive(
                    json.loads(json.dumps(write(vif, manifest)))
                )
                before, after = set_fields(vif), set_fields(loaded)
                missing = sorted(
                    k for k in before if after.get(k) != before[k]
                )
                if missing:
                    lost["%s+%s" % (vif_name, profile_name)] = missing
                else:
                    kept += 1
        report[path_name] = {
            "tried": len(vifs) * len(profiles),
            "kept_whole": kept,
            "lost": lost,
        }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--all", action="store_true", help="every VIF type x port profile"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    report = run(args.all)
    total = sum(p["tried"] for p in report.values())
    whole = sum(p["kept_whole"] for p in report.values())
    import os_vif

    print(
        json.dumps(
            {
                "os_vif": getattr(os_vif, "__file__", "?"),
                "kept_whole": "%d of %d" % (whole, total),
                "paths": report,
            },
            indent=1,
            sort_keys=True,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
