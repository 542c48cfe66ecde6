"""Version manifests lose nothing the reader can have (issue 14).

A manifest entry for a polymorphic base (``VIFPortProfileBase``,
``DatapathOffloadBase``) applies to the base: the concrete object goes at
the newest version of its own class compatible with that base version, or
at the version the manifest names for the concrete class.  Every VIF class
x every port profile class x with and without a datapath offload, against
manifests of the same versions and of every older one, through
``obj_to_primitive``, ``serialization.to_primitive`` and
``serialization.negotiate``.
"""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest
from oslo_versionedobjects import base as ovo_base

from os_vif import objects, serialization
from os_vif.objects import base as osv_base
from tests import wire_samples
from tests.unit.objects import populate

objects.register_all()

# ../shared beside the checkout (the main tree, or a worktree one deeper).
REFERENCE = next(
    (
        p
        for p in (
            pathlib.Path(__file__).resolve().parents[n]
            / "shared"
            / "reference"
            / "os-vif-5.3.0-wire-schema.json"
            for n in (4, 5)
        )
        if p.exists()
    ),
    pathlib.Path("/nonexistent"),
)
CLASSES = populate.os_vif_classes()
VIF_CLASSES = sorted(
    n for n, c in CLASSES.items()
    if issubclass(c, CLASSES["VIFBase"]) and n != "VIFBase"
)
PROFILE_CLASSES = sorted(
    n for n, c in CLASSES.items()
    if issubclass(c, CLASSES["VIFPortProfileBase"])
)
BASE = "VIFPortProfileBase"
OFFLOAD_BASE = "DatapathOffloadBase"


def versions(name: str) -> list[str]:
    major, minor = (int(p) for p in CLASSES[name].VERSION.split("."))
    return ["%d.%d" % (major, m) for m in range(minor + 1)]


def fields_at(name: str, version: str) -> set[str]:
    data: dict[str, Any] = {f: None for f in CLASSES[name].fields}
    osv_base.drop_fields_newer_than(
        data, version, CLASSES[name].VERSION_STEPS
    )
    return set(data)


def build(vif_name: str, profile_name: str, offload: bool) -> Any:
    """A populated VIF of ``vif_name`` carrying a ``profile_name``."""
    b = wire_samples._Builder(wire_samples.load_classes())  # noqa: SLF001
    profile = wire_samples._PROFILES[profile_name](  # noqa: SLF001
        b, nulls=not offload
    )
    if not offload:
        del profile.datapath_offload
    if vif_name in wire_samples._VIF_SPECS:  # noqa: SLF001
        return wire_samples._vif(b, vif_name, profile)  # noqa: SLF001
    # kuryr's types: every field populated from its type.
    vif = populate.populated(vif_name)
    vif.port_profile = profile
    return vif


def expected_profile_version(manifest: dict[str, str], profile: str) -> str:
    if profile in manifest:
        return manifest[profile]
    if profile == BASE:
        return manifest.get(BASE, CLASSES[BASE].VERSION)
    return osv_base.version_for_base(
        CLASSES[profile], CLASSES[BASE], manifest[BASE]
    )


def manifests_for(vif: Any) -> list[tuple[str, dict[str, str]]]:
    """Same versions, and every older VIF, base and concrete version."""
    tree = ovo_base.obj_tree_get_versions(vif.obj_name())
    found = [("same", dict(tree))]
    profile = vif.port_profile.obj_name()
    for vif_version in versions(vif.obj_name()):
        for base_version in versions(BASE):
            m = dict(tree, **{vif.obj_name(): vif_version, BASE: base_version})
            found.append(("vif%s+base%s" % (vif_version, base_version), m))
    if profile != BASE:
        for version in versions(profile):
            m = dict(tree, **{profile: version, BASE: "1.0"})
            found.append(("named%s" % version, m))
    return found


def set_values(obj: Any) -> dict[str, Any]:
    """Every set field of an object tree, by path (classes included)."""
    found: dict[str, Any] = {}

    def walk(o: Any, path: str) -> None:
        found[path + "@"] = o.obj_name()
        for name in o.fields:
            if not o.obj_attr_is_set(name):
                continue
            value = getattr(o, name)
            if isinstance(value, ovo_base.ObjectListBase):
                for i, item in enumerate(value.objects):
                    walk(item, "%s%s[%d]." % (path, name, i))
            elif isinstance(value, ovo_base.VersionedObject):
                walk(value, path + name + ".")
            else:
                found[path + name] = str(value)

    walk(obj, "")
    return found


def _field(part: str) -> str:
    return part.split("[")[0]


def readable_part(
    values: dict[str, Any], vif_fields: set[str], profile_fields: set[str]
) -> dict[str, Any]:
    """``values`` without the fields a reader of those versions lacks."""
    kept = {}
    for key, value in values.items():
        parts = key.split(".")
        if parts[0] != "@" and _field(parts[0]) not in vif_fields:
            continue
        if (
            parts[0] == "port_profile"
            and parts[1] != "@"
            and _field(parts[1]) not in profile_fields
        ):
            continue
        kept[key] = value
    return kept


COMBINATIONS = [
    (v, p, off)
    for v in VIF_CLASSES
    for p in PROFILE_CLASSES
    for off in (True, False)
]


def _write(path: str, vif: Any, manifest: dict[str, str]) -> Any:
    if path == "obj_to_primitive":
        return vif.obj_to_primitive(
            target_version=manifest[vif.obj_name()], version_manifest=manifest
        )
    return serialization.to_primitive(vif, manifest)


@pytest.mark.parametrize("path", ["obj_to_primitive", "to_primitive"])
@pytest.mark.parametrize(
    "vif_name,profile_name,offload",
    COMBINATIONS,
    ids=["%s+%s%s" % (v, p, "+offload" if o else "") for v, p, o in
         COMBINATIONS],
)
def test_every_field_the_reader_has_is_sent(
    path: str, vif_name: str, profile_name: str, offload: bool
) -> None:
    vif = build(vif_name, profile_name, offload)
    before = set_values(vif)
    for kind, manifest in manifests_for(vif):
        primitive = json.loads(json.dumps(_write(path, vif, manifest)))
        loaded = serialization.from_primitive(primitive)
        want_profile = expected_profile_version(manifest, profile_name)
        assert loaded.VERSION == manifest[vif_name], kind
        assert loaded.port_profile.VERSION == want_profile, kind
        vif_fields = fields_at(vif_name, loaded.VERSION)
        # datapath_offload is kept under a manifest, as os-vif 5.x does.
        profile_fields = fields_at(profile_name, want_profile) | {
            "datapath_offload"
        }
        assert set_values(loaded) == readable_part(
            before, vif_fields, profile_fields
        ), kind
        # Whatever the manifest, the offload goes at its own (only) version.
        if offload:
            assert loaded.port_profile.datapath_offload.VERSION == "1.0"
        if kind == "same":
            assert set_values(loaded) == before


@pytest.mark.parametrize("profile_name", PROFILE_CLASSES)
def test_negotiate_with_a_manifest_keeps_the_profile(
    profile_name: str,
) -> None:
    vif = build("VIFOpenVSwitch", profile_name, True)
    manifest = ovo_base.obj_tree_get_versions("VIFOpenVSwitch")
    sent = serialization.negotiate(manifest, vif)
    assert sent == vif
    assert set_values(sent) == set_values(vif)
    old = dict(manifest, VIFPortProfileBase="1.0")
    sent = serialization.negotiate(old, vif)
    assert sent.port_profile.VERSION == expected_profile_version(
        old, profile_name
    )


def _reference() -> dict[str, Any]:
    if not REFERENCE.exists():
        pytest.skip("no ../shared/reference (not a project checkout)")
    return json.loads(REFERENCE.read_text())["objects"]


def _base_version_at(ref: dict[str, Any], name: str, version: str) -> str:
    """Which VIFPortProfileBase version ``name`` ``version`` embeds, read
    off the release's own version history."""
    base = "1.0"
    history = ref[name].get("history", {})
    for step, text in sorted(history.items()):
        if tuple(map(int, step.split("."))) > tuple(
            map(int, version.split("."))
        ):
            break
        if re.search(r"VIFPortProfileBase( 1\.0)? -> 1\.1", text):
            base = "1.1"
        parent = re.match(r"parent (\w+ )?-> (\d+\.\d+)", text)
        if parent:
            parent_name = ref[name]["bases"][0]
            base = _base_version_at(ref, parent_name, parent.group(2))
    return base


@pytest.mark.parametrize("profile_name", PROFILE_CLASSES)
def test_the_rule_follows_the_release_history(profile_name: str) -> None:
    """version_for_base agrees with os-vif 5.3.0's recorded history."""
    ref = _reference()
    if profile_name == BASE:
        return
    for base_version in versions(BASE):
        fits = [
            v for v in versions(profile_name)
            if _base_version_at(ref, profile_name, v) <= base_version
        ]
        assert osv_base.version_for_base(
            CLASSES[profile_name], CLASSES[BASE], base_version
        ) == fits[-1], base_version


def test_the_rule_for_offloads_and_future_bases() -> None:
    offload = CLASSES["DatapathOffloadRepresentor"]
    assert osv_base.version_for_base(
        offload, CLASSES[OFFLOAD_BASE], "1.0"
    ) == "1.0"
    ovs = CLASSES["VIFPortProfileOpenVSwitch"]
    # A base newer than ours, or unparsable, constrains nothing.
    assert osv_base.version_for_base(ovs, CLASSES[BASE], "1.7") == "1.4"
    assert osv_base.version_for_base(ovs, CLASSES[BASE], "2.0") == "1.4"
    assert osv_base.version_for_base(ovs, CLASSES[BASE], "x") == "1.4"


def _tool() -> Any:
    import importlib.util

    path = pathlib.Path(__file__).resolve().parents[3] / "tools" / (
        "manifest_loss.py"
    )
    spec = importlib.util.spec_from_file_location("manifest_loss", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("every", [False, True], ids=["user", "all"])
def test_the_issue_count_is_now_everything(every: bool) -> None:
    """tools/manifest_loss.py: 12 of 30 before the fix, now all kept."""
    report = _tool().run(every)
    assert set(report) == {"obj_to_primitive", "serialization.to_primitive"}
    for path in report.values():
        assert path["tried"] == (56 if every else 15)
        assert path["kept_whole"] == path["tried"], path["lost"]
