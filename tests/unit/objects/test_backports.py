"""Every object backports to every earlier version of its major.

os-vif 5.3.0 raises "No rule for ..." for Network, HostVIFInfo and
VIFVHostUser to 1.0 without a version manifest; here every (object,
version) pair works, with and without a manifest, nested objects included.
"""

from __future__ import annotations

import pytest
from oslo_utils import versionutils

from os_vif import objects
from os_vif.objects import base as osv_base
from tests.unit.objects import populate

objects.register_all()

KEY = "versioned_object."


def versions_of(cls) -> list[str]:
    major, minor = versionutils.convert_version_to_tuple(cls.VERSION)[:2]
    return ["%d.%d" % (major, m) for m in range(minor + 1)]


PAIRS = [
    (name, version)
    for name, cls in sorted(populate.os_vif_classes().items())
    for version in versions_of(cls)
]


def fields_at(cls, version: str) -> set[str]:
    """Fields of ``cls`` that a reader of ``version`` knows."""
    target = versionutils.convert_version_to_tuple(version)
    gone = set()
    for klass in cls.__mro__:
        for step, names in getattr(klass, "VERSION_STEPS", {}).items():
            if klass is cls and target < versionutils.convert_version_to_tuple(
                step
            ):
                gone.update(names)
    return set(cls.fields) - gone


def manifest_for(name: str, version: str) -> dict[str, str]:
    manifest = {n: c.VERSION for n, c in populate.os_vif_classes().items()}
    manifest[name] = version
    return manifest


def walk(primitive, path="obj"):
    """Yield (path, name, version, data) for every object in a primitive."""
    if isinstance(primitive, dict) and KEY + "name" in primitive:
        yield (
            path,
            primitive[KEY + "name"],
            primitive[KEY + "version"],
            (primitive[KEY + "data"]),
        )
        for field, value in primitive[KEY + "data"].items():
            yield from walk(value, "%s.%s" % (path, field))
    elif isinstance(primitive, list):
        for i, item in enumerate(primitive):
            yield from walk(item, "%s[%d]" % (path, i))


def check_consistent(primitive, with_manifest: bool) -> None:
    """Each object in the primitive has only its version's fields.

    Under a manifest, os-vif 5.x (and so os_vif) keeps a port profile's
    ``datapath_offload`` even below the version that added it.
    """
    for path, name, version, data in walk(primitive):
        cls = populate.os_vif_classes()[name]
        assert versionutils.is_compatible(version, cls.VERSION), path
        unknown = set(data) - fields_at(cls, version)
        if with_manifest:
            unknown -= set(cls.KEPT_WITH_MANIFEST)
        assert not unknown, (path, name, version, unknown)


def test_there_are_52_pairs_of_os_vif_530_6_of_kuryr_and_1_of_6():
    kuryr = {
        "VIFVlanNested",
        "VIFMacvlanNested",
        "VIFDPDKNested",
        "VIFSriov",
        "PodState",
    }
    new_in_6 = {"WorkloadInterface"}
    assert [p for p in PAIRS if p[0] in new_in_6] == [
        ("WorkloadInterface", "1.0")
    ]
    assert (
        len([p for p in PAIRS if p[0] not in kuryr and p[0] not in new_in_6])
        == 52
    )
    assert len([p for p in PAIRS if p[0] in kuryr]) == 6


@pytest.mark.parametrize("name,version", PAIRS)
@pytest.mark.parametrize(
    "with_manifest", [False, True], ids=["bare", "manifest"]
)
def test_backport(name, version, with_manifest):
    obj = populate.populated(name)
    manifest = manifest_for(name, version) if with_manifest else None
    primitive = obj.obj_to_primitive(
        target_version=version, version_manifest=manifest
    )
    assert primitive[KEY + "version"] == version
    check_consistent(primitive, with_manifest)
    data = primitive[KEY + "data"]
    # Every field the target version knows survives, nested objects too.
    expected = fields_at(type(obj), version)
    if with_manifest:
        expected |= set(type(obj).KEPT_WITH_MANIFEST)
    assert set(data) == expected
    loaded = osv_base.VersionedObject.obj_from_primitive(primitive)
    assert loaded.VERSION == version
    assert type(loaded) is type(obj)


def test_nested_offload_dropped_for_old_port_profile():
    from os_vif.objects import vif

    profile = populate.populated("VIFPortProfileOpenVSwitch")
    primitive = profile.obj_to_primitive(target_version="1.1")
    assert "datapath_offload" not in primitive[KEY + "data"]
    assert "datapath_type" in primitive[KEY + "data"]
    assert isinstance(profile.datapath_offload, vif.DatapathOffloadRepresentor)


def test_manifest_names_the_subclass_version():
    vhu = populate.populated("VIFVHostUser")
    manifest = manifest_for("VIFVHostUser", "1.0")
    manifest["VIFPortProfileOpenVSwitch"] = "1.2"
    primitive = vhu.obj_to_primitive(
        target_version="1.0", version_manifest=manifest
    )
    profile = primitive[KEY + "data"]["port_profile"]
    assert profile[KEY + "version"] == "1.2"
    assert "create_port" not in profile[KEY + "data"]
    assert "datapath_offload" in profile[KEY + "data"]


def test_subclass_keeps_its_version_without_manifest():
    vhu = populate.populated("VIFVHostUser")
    primitive = vhu.obj_to_primitive(target_version="1.0")
    data = primitive[KEY + "data"]
    assert "vif_name" not in data
    assert data["port_profile"][KEY + "version"] == "1.4"
    assert data["network"][KEY + "version"] == "1.1"


def test_newer_target_than_ours_is_refused():
    from oslo_versionedobjects import exception as ovo_exception

    with pytest.raises(ovo_exception.InvalidTargetVersion):
        populate.populated("Network").obj_to_primitive(target_version="1.2")
