"""Payloads stored by older os-vif releases and by kuryr-kubernetes load.

The corpus under ``tests/vectors/corpus`` was written by the real
releases (os-vif 1.0 to 5.0, kuryr-kubernetes 1.0 to 10.0 with their
os-vif), run in isolated virtualenvs by ``tools/make_wire_vectors.py``.
Every payload must load with os_vif alone, and emit back what was stored.
"""

from __future__ import annotations

import copy
import json
import pathlib

import pytest

from os_vif import objects
from os_vif.objects import base as osv_base
from tests.unit.objects.test_wire import canonical

objects.register_all()

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "vectors" / "corpus"
VECTORS = [
    (path.parent.name + "/" + path.name + ":" + vector["id"], vector)
    for path in sorted(CORPUS.glob("*/*.json"))
    for vector in json.loads(path.read_text())["vectors"]
    if vector.get("error") is None and vector.get("primitive") is not None
]
KNOWN = {
    name
    for name, classes in __import__(
        "oslo_versionedobjects.base", fromlist=["x"]
    )
    .VersionedObjectRegistry.obj_classes()
    .items()
    if classes[0].OBJ_PROJECT_NAMESPACE == "os_vif"
}


def test_corpus_is_there():
    producers = {vector_id.split("/")[0] for vector_id, _ in VECTORS}
    assert any(p.startswith("kuryr-kubernetes-10.0.0") for p in producers)
    assert any(p.startswith("os-vif-1.") for p in producers)
    assert len(VECTORS) > 100


@pytest.mark.parametrize(
    "vector", [v for _, v in VECTORS], ids=[i for i, _ in VECTORS]
)
def test_stored_payload_loads(vector):
    assert vector["object"] in KNOWN
    loaded = osv_base.VersionedObject.obj_from_primitive(
        copy.deepcopy(vector["primitive"])
    )
    assert loaded.obj_name() == vector["object"]
    assert canonical(loaded.obj_to_primitive()) == canonical(
        vector["primitive"]
    )
