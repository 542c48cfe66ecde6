"""Wire compatibility with os-vif 5.3.0, checked against its own output.

``tests/vectors/os-vif-5.3.0`` holds what the real os-vif 5.3.0 emitted
(``tools/make_wire_vectors.py`` ran it in an isolated virtualenv) for the
samples of ``tests/wire_samples.py``, at every version of every object,
with and without version manifests.  Here our objects must:

* load every vector and emit it back identically;
* emit identical primitives for the same samples, targets and manifests;
* succeed where os-vif 5.3.0 failed (no manifest, "No rule for ...");
* keep, where 5.3.0 lost them, the port profile fields a manifest naming
  ``VIFPortProfileBase`` lets the reader have (``vectors.LOSSY_IN_530``).
"""

from __future__ import annotations

import copy
import json
import pathlib

import pytest

from os_vif import objects
from os_vif.objects import base as osv_base
from tests import wire_samples
from tests.unit.objects import populate
from tests.unit.serialization import vectors

objects.register_all()

VECTORS_DIR = pathlib.Path(__file__).resolve().parents[2] / "vectors"
CHANGES = "versioned_object.changes"
DATA = "versioned_object.data"
NAME = "versioned_object.name"
VERSION = "versioned_object.version"


def load_vectors(release: str) -> list[dict]:
    vectors = []
    for path in sorted((VECTORS_DIR / release).glob("*.json")):
        vectors.extend(json.loads(path.read_text())["vectors"])
    return vectors


VECTORS = load_vectors("os-vif-5.3.0")
GOOD = [v for v in VECTORS if v["error"] is None]
FAILED_IN_530 = [v for v in VECTORS if v["error"] is not None]
SAMPLES = {
    (s.object_name, s.sample_name): s for s in wire_samples.build_samples()
}


def fields_at(name: str, version: str) -> set[str]:
    """The fields the os_vif class ``name`` has at ``version``."""
    cls = populate.os_vif_classes()[name]
    data: dict = {field: None for field in cls.fields}
    osv_base.drop_fields_newer_than(data, version, cls.VERSION_STEPS)
    return set(data)


def canonical(primitive):
    """The primitive, made comparable.

    "changes" is compared as a sorted list of the fields that are sent:
    oslo.versionedobjects emits it from a set (its order differs between
    processes), and keeps changes of unsent fields in nested objects only
    (a change to a field that is not sent carries nothing).
    """
    if isinstance(primitive, list):
        return [canonical(v) for v in primitive]
    if not isinstance(primitive, dict):
        return primitive
    if DATA not in primitive:
        return {k: canonical(v) for k, v in primitive.items()}
    data = dict(primitive[DATA])
    result = dict(primitive)
    result[DATA] = {k: canonical(v) for k, v in data.items()}
    if CHANGES in result:
        result[CHANGES] = sorted(set(result[CHANGES]) & set(data))
        if not result[CHANGES]:
            del result[CHANGES]  # as oslo.versionedobjects omits it
    return result


def objects_in(primitive):
    """Yield every (name, version, data) of the objects in a primitive."""
    if isinstance(primitive, list):
        for item in primitive:
            yield from objects_in(item)
    elif isinstance(primitive, dict):
        if DATA in primitive:
            yield primitive[NAME], primitive[VERSION], primitive[DATA]
            for value in primitive[DATA].values():
                yield from objects_in(value)
        else:
            for value in primitive.values():
                yield from objects_in(value)


def test_vectors_cover_every_object_and_version():
    assert len(VECTORS) >= 500
    pairs = {(v["object"], v["target_version"]) for v in GOOD}
    assert len(pairs) == 52  # every (object, version) pair of os-vif 5.3.0
    # Without a manifest 5.3.0 fails Network, HostVIFInfo and VIFVHostUser
    # to 1.0; with one, it also fails everything holding a HostVIFInfo 1.0.
    assert {
        v["object"] for v in FAILED_IN_530 if v["version_manifest"] is None
    } == {"Network", "HostVIFInfo", "VIFVHostUser"}
    assert {v["object"] for v in FAILED_IN_530} == {
        "Network",
        "HostVIFInfo",
        "VIFVHostUser",
        "HostPluginInfo",
        "HostInfo",
    }


@pytest.mark.parametrize("vector", GOOD, ids=lambda v: v["id"])
def test_load_and_emit_back(vector):
    loaded = osv_base.VersionedObject.obj_from_primitive(
        copy.deepcopy(vector["primitive"])
    )
    assert loaded.obj_name() == vector["object"]
    assert loaded.VERSION == vector["target_version"]
    assert canonical(loaded.obj_to_primitive()) == canonical(
        vector["primitive"]
    )


@pytest.mark.parametrize("vector", GOOD, ids=lambda v: v["id"])
def test_same_sample_same_primitive(vector):
    sample = SAMPLES[(vector["object"], vector["sample"])]
    ours = sample.obj.obj_to_primitive(
        target_version=vector["target_version"],
        version_manifest=vector["version_manifest"],
    )
    if vector["id"] in vectors.LOSSY_IN_530:
        # os-vif 5.3.0's bug (issue 14): given a manifest naming
        # VIFPortProfileBase, it cut the Open vSwitch profiles to the base's
        # version number, losing fields the reader has.  We keep them.
        assert vectors.assert_keeps_what_530_lost(
            canonical(ours), canonical(vector["primitive"]),
            vector["version_manifest"],
        ) == 1
        return
    assert canonical(ours) == canonical(vector["primitive"])


def test_the_vectors_530_got_lossy_are_the_recorded_ones():
    """Exactly the vectors LOSSY_IN_530 lists differ from os-vif 5.3.0."""
    differing = set()
    for vector in GOOD:
        sample = SAMPLES[(vector["object"], vector["sample"])]
        ours = sample.obj.obj_to_primitive(
            target_version=vector["target_version"],
            version_manifest=vector["version_manifest"],
        )
        if canonical(ours) != canonical(vector["primitive"]):
            differing.add(vector["id"])
    assert differing == vectors.LOSSY_IN_530


def test_manifest_keeps_datapath_offload_as_530_does():
    """Given a manifest, 5.3.0 keeps datapath_offload in old profiles."""
    kept = [
        (name, version)
        for v in GOOD
        if v["version_manifest"]
        for name, version, data in objects_in(v["primitive"])
        if "datapath_offload" in data
        and "datapath_offload" not in fields_at(name, version)
    ]
    assert kept, "the vectors no longer show it: KEPT_WITH_MANIFEST can go"
    assert {name for name, _ in kept} <= {
        n for n in populate.os_vif_classes() if n.startswith("VIFPortProfile")
    }


@pytest.mark.parametrize("vector", FAILED_IN_530, ids=lambda v: v["id"])
def test_what_530_could_not_backport(vector):
    sample = SAMPLES[(vector["object"], vector["sample"])]
    ours = sample.obj.obj_to_primitive(
        target_version=vector["target_version"],
        version_manifest=vector["version_manifest"],
    )
    assert ours["versioned_object.version"] == vector["target_version"]
    again = osv_base.VersionedObject.obj_from_primitive(copy.deepcopy(ours))
    assert again.VERSION == vector["target_version"]
    for name, version, data in objects_in(ours):
        assert set(data) - {"datapath_offload"} <= fields_at(name, version)
    # Where no subclass-typed field is involved, the result is what 5.3.0
    # gives when told the versions of the whole tree.
    with_tree = [v for v in GOOD if v["id"] == vector["id"] + "+tree-current"]
    if vector["object"] != "VIFVHostUser" and with_tree:
        assert canonical(ours) == canonical(with_tree[0]["primitive"])
