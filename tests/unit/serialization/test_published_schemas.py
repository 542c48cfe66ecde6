"""The schemas published in doc/source/schemas: current, valid, and true.

They must be what ``tools/make_schemas.py`` writes from the code (so a
change to an object shows up in them), valid JSON Schema 2020-12, accept
every stored payload, and refuse what the loader refuses for type reasons.
"""

from __future__ import annotations

import functools
import json
import pathlib

import pytest

from os_vif import serialization
from os_vif._serialization import catalog
from tests.unit.serialization import vectors

jsonschema = pytest.importorskip("jsonschema")

ROOT = pathlib.Path(__file__).resolve().parents[3]
PUBLISHED = ROOT / "doc" / "source" / "schemas"


@functools.cache
def published(fmt):
    return json.loads((PUBLISHED / ("os_vif.%s.json" % fmt)).read_text())


@functools.cache
def validator(fmt, entry=None):
    schema = dict(published(fmt))
    if entry is not None:
        schema.pop("anyOf")
        schema["$ref"] = "#/$defs/" + entry
    return jsonschema.Draft202012Validator(schema)


def test_published_schemas_are_up_to_date():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_schemas", ROOT / "tools" / "make_schemas.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.stale() == [], "run tools/make_schemas.py"


@pytest.mark.parametrize("fmt", serialization.FORMATS)
def test_published_schemas_are_valid_json_schema(fmt):
    jsonschema.Draft202012Validator.check_schema(published(fmt))


def test_every_class_and_version_is_published():
    for name, spec in catalog.catalog().by_name.items():
        for version in spec.versions:
            for fmt in serialization.FORMATS:
                key = "%s-%s" % (name, version)
                assert key in published(fmt)["$defs"]
                one = serialization.json_schema(name, version, fmt)
                assert one["$ref"] == "#/$defs/" + key
                # The same definitions as the published (checked) bundle.
                for ref, definition in one["$defs"].items():
                    assert definition == published(fmt)["$defs"][ref]


def test_every_vector_is_valid_against_the_published_schemas():
    for vector in vectors.PRIMITIVES:
        stored = vector
        entry = "%s-%s" % (
            stored["versioned_object.name"],
            stored["versioned_object.version"],
        )
        validator("primitive", entry).validate(stored)
        compact = serialization.to_compact(
            serialization.from_primitive(stored)
        )
        validator("compact", entry).validate(compact)


def test_the_bundle_accepts_any_object():
    for fmt in serialization.FORMATS:
        for name in ("VIFOpenVSwitch", "HostInfo", "PodState", "Route"):
            obj = serialization.from_primitive(
                next(
                    v["primitive"]
                    for _, v in vectors.VECTORS
                    if v["object"] == name
                )
            )
            document = (
                serialization.to_compact(obj)
                if fmt == "compact"
                else serialization.to_primitive(obj)
            )
            validator(fmt).validate(document)


@pytest.mark.parametrize(
    "bad",
    [
        {"@type": "VIFOpenVSwitch", "@version": "1.0"},  # no id
        {"@type": "VIFOpenVSwitch", "@version": "1.5", "id": "x"},
        {"@type": "Route", "@version": "1.0", "cidr": "10.0.0.0/8",
         "colour": "red"},
        {"@type": "Route", "@version": "1.0", "cidr": 10},
        {"@type": "VIFDirect", "@version": "1.0", "mode": "sideways",
         "id": "c3a8f2d4-7d2b-4f64-8a4e-0000000000f1"},
        {"@type": "VIFGeneric", "@version": "1.0",
         "id": "c3a8f2d4-7d2b-4f64-8a4e-0000000000f1",
         "port_profile": {"@type": "Network", "@version": "1.1",
                          "id": "c3a8f2d4-7d2b-4f64-8a4e-0000000000f1"}},
    ],
)
def test_schema_and_loader_agree_on_bad_documents(bad):
    assert not validator("compact").is_valid(bad)
    with pytest.raises(serialization.exception.DeserializationError):
        serialization.from_compact(bad)
