"""Strict loading: every kind of bad input gives DeserializationError.

Each case names the path and the reason the operator reads.
"""

from __future__ import annotations

import copy
import json

import pytest

from os_vif import exception, serialization
from os_vif.objects import network, vif
from tests import wire_samples

DATA = "versioned_object.data"
VERSION = "versioned_object.version"
NAME = "versioned_object.name"


@pytest.fixture
def primitive():
    obj = wire_samples.build_sample("VIFOpenVSwitch", "populated")
    return serialization.to_primitive(obj)


@pytest.fixture
def compact():
    obj = wire_samples.build_sample("VIFOpenVSwitch", "populated")
    return serialization.to_compact(obj)


def subnet0(prim):
    return prim[DATA]["network"][DATA]["subnets"][DATA]["objects"][0][DATA]


def load_error(data, loader=serialization.from_primitive):
    with pytest.raises(exception.DeserializationError) as info:
        loader(data)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.path in str(err) and err.reason in str(err)
    return err


def test_wrong_type_deep_down_names_the_path(primitive):
    subnet0(primitive)["cidr"] = 42
    err = load_error(primitive)
    assert err.path == "network.subnets.objects[0].cidr"
    assert err.reason == "expected a string, got an integer"


def test_bad_address_in_a_list(primitive):
    subnet0(primitive)["dns"][1] = "8.8.8.888"
    err = load_error(primitive)
    assert err.path == "network.subnets.objects[0].dns[1]"
    assert "'8.8.8.888' is not an IP address" == err.reason


def test_compact_paths_follow_the_document(compact):
    compact["network"]["subnets"][1]["ips"][0]["address"] = "nope"
    err = load_error(compact, serialization.from_compact)
    assert err.path == "network.subnets[1].ips[0].address"


def test_unknown_field(primitive):
    primitive[DATA]["network"][DATA]["colour"] = "blue"
    err = load_error(primitive)
    assert err.path == "network.colour"
    assert "unknown field 'colour' for Network 1.1" == err.reason


def test_field_newer_than_the_stated_version(primitive):
    primitive[DATA]["network"][VERSION] = "1.0"
    err = load_error(primitive)
    assert err.path == "network.mtu"
    assert "does not exist in version 1.0 (it was added in 1.1)" in err.reason


def test_newer_version_than_we_know(primitive):
    primitive[DATA]["port_profile"][VERSION] = "1.5"
    err = load_error(primitive)
    assert err.path == "port_profile"
    assert err.reason == (
        "VIFPortProfileOpenVSwitch 1.5 is newer than 1.4, the newest this "
        "os_vif knows"
    )


@pytest.mark.parametrize("version", ["2.0", "0.9", "1", "1.01", "v1.0", 1.0])
def test_other_bad_versions(primitive, version):
    primitive[VERSION] = version
    err = load_error(primitive)
    assert err.path == "<document>"


def test_unknown_class_is_never_imported(primitive):
    primitive[DATA]["port_profile"][NAME] = "os.system"
    err = load_error(primitive)
    assert err.reason == "unknown object class 'os.system'"


def test_wrong_namespace(primitive):
    primitive["versioned_object.namespace"] = "nova"
    err = load_error(primitive)
    assert err.path == "versioned_object.namespace"


def test_class_not_allowed_in_the_field(primitive):
    primitive[DATA]["port_profile"][NAME] = "Network"
    err = load_error(primitive)
    assert err.path == "port_profile"
    assert err.reason == (
        "expected VIFPortProfileBase or a subclass here, not Network"
    )


def test_subclass_accepted_where_the_field_allows_it(primitive):
    rep = wire_samples.build_sample(
        "VIFPortProfileOVSRepresentor", "populated"
    )
    primitive[DATA]["port_profile"] = serialization.to_primitive(rep)
    loaded = serialization.from_primitive(primitive)
    assert type(loaded.port_profile).__name__ == "VIFPortProfileOVSRepresentor"


def test_missing_required_field(primitive):
    del subnet0(primitive)["cidr"]
    err = load_error(primitive)
    assert err.path == "network.subnets.objects[0].cidr"
    assert err.reason == "required field cidr of Subnet is missing"


def test_null_where_not_nullable(primitive):
    primitive[DATA]["vif_name"] = None
    err = load_error(primitive)
    assert err.path == "vif_name"
    assert err.reason == "null is not allowed for vif_name"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("active", 1, "expected a boolean, got an integer"),
        ("address", "fa:16:3e:12:34", "'fa:16:3e:12:34' is not a MAC address"),
        ("id", "not-a-uuid", "'not-a-uuid' is not a UUID"),
        ("plugin", ["ovs"], "expected a string, got an array"),
    ],
)
def test_scalar_types(primitive, field, value, reason):
    primitive[DATA][field] = value
    err = load_error(primitive)
    assert (err.path, err.reason) == (field, reason)


def test_integer_range_and_bool_is_not_an_integer(primitive):
    primitive[DATA]["network"][DATA]["mtu"] = True
    assert load_error(primitive).path == "network.mtu"
    primitive[DATA]["network"][DATA]["mtu"] = 2**70
    assert "64-bit" in load_error(primitive).reason


def test_changes_must_name_fields(primitive):
    primitive["versioned_object.changes"] = ["id", "__class__"]
    err = load_error(primitive)
    assert err.path == "versioned_object.changes[1]"


def test_unknown_envelope_key(primitive):
    primitive["versioned_object.extra"] = 1
    assert load_error(primitive).path == "versioned_object.extra"


def test_excessive_depth():
    doc = {"@type": "VIFOpenVSwitch", "@version": "1.0", "id": "x"}
    inner = doc
    for _ in range(40):
        inner["network"] = {"@type": "Network", "@version": "1.1"}
        inner = inner["network"]
    # Network has no Network field: the type check fires before depth.
    assert load_error(doc, serialization.from_compact).path == "id"
    deep = "[" * 100_000 + "]" * 100_000
    err = load_error(deep, serialization.loads)
    assert "nested too deeply" in err.reason


def test_too_many_items(compact):
    compact["network"]["subnets"][0]["dns"] = ["192.0.2.1"] * 5000
    err = load_error(compact, serialization.from_compact)
    assert err.path == "network.subnets[0].dns"
    assert err.reason == "more than %d items" % serialization.MAX_LIST_ITEMS


def test_long_string(compact):
    compact["vif_name"] = "x" * (serialization.MAX_STRING_LENGTH + 1)
    assert load_error(compact, serialization.from_compact).path == "vif_name"


def test_document_size():
    text = " " * (serialization.MAX_DOCUMENT_SIZE + 1)
    assert "exceeds" in load_error(text, serialization.loads).reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "not valid JSON"),
        ('{"@type": NaN}', "NaN is not a JSON value"),
        ('{"a": 1, "a": 2}', "key 'a' appears twice in one object"),
        (b"\xff\xfe", "the document is not UTF-8"),
        ("[]", "expected an os_vif object"),
        ('"VIFOpenVSwitch"', "expected an os_vif object"),
        ("1" * 5000, "not valid JSON"),
    ],
)
def test_bad_json(text, reason):
    assert load_error(text, serialization.loads).reason.startswith(reason)


def test_only_one_exception_type_for_non_json_input():
    for value in (None, 1, object(), [], {"versioned_object.name": []}):
        load_error(value)
        load_error(value, serialization.from_compact)
        load_error(value, serialization.from_data)


def test_older_version_loads_and_keeps_its_version():
    old = serialization.loads(
        '{"@type": "VIFVHostUser", "@version": "1.0", '
        '"id": "c3a8f2d4-7d2b-4f64-8a4e-0000000000f1", "path": "/x"}'
    )
    assert old.VERSION == "1.0"
    assert not old.obj_attr_is_set("vif_name")
    assert json.loads(serialization.dumps(old))["@version"] == "1.0"
    assert serialization.to_primitive(old)[VERSION] == "1.0"


def test_os_vif_5_datapath_offload_below_1_2_loads(primitive):
    # os-vif 5.x writes it there when given a version manifest.
    profile = primitive[DATA]["port_profile"]
    profile[VERSION] = "1.1"
    for name in ("create_port", "create_tap", "multiqueue"):
        del profile[DATA][name]
    loaded = serialization.from_primitive(primitive)
    assert loaded.port_profile.datapath_offload is not None


def test_set_versus_unset_survives_both_formats():
    net = network.Network(id="6f4cb8a2-6b1c-4c1e-9f0a-00000000e7a1")
    port = vif.VIFGeneric(id="c3a8f2d4-7d2b-4f64-8a4e-0000000000f1",
                          network=net, active=True)
    for fmt in ("compact", "primitive"):
        again = serialization.loads(serialization.dumps(port, format=fmt))
        assert again == port
        assert serialization.to_primitive(again) == (
            serialization.to_primitive(port)
        )
        assert again.obj_attr_is_set("active")
        assert not again.obj_attr_is_set("preserve_on_delete")
        assert not again.obj_attr_is_set("vif_name")
        assert again.network.mtu is None
        assert again.network.obj_attr_is_set("mtu")
    unset = serialization.from_compact(
        {"@type": "Network", "@version": "1.1", "id": net.id}
    )
    assert not unset.obj_attr_is_set("mtu")
    assert not unset.obj_attr_is_set("subnets")


def test_nulls_are_not_unset():
    obj = wire_samples.build_sample("VIFOpenVSwitch", "nulls")
    again = serialization.loads(serialization.dumps(obj))
    assert again.obj_attr_is_set("address") and again.address is None
    assert serialization.to_primitive(again) == serialization.to_primitive(obj)


def test_loaded_objects_are_independent(primitive):
    before = copy.deepcopy(primitive)
    serialization.from_primitive(primitive)
    assert primitive == before


def test_writing_a_foreign_object_is_refused():
    with pytest.raises(exception.InvalidArgument):
        serialization.dumps(object())
    with pytest.raises(exception.InvalidArgument):
        serialization.dumps(
            wire_samples.build_sample("VIFGeneric", "minimal"), format="yaml"
        )


def test_nothing_named_in_the_data_is_imported(monkeypatch, primitive):
    import builtins
    import importlib

    serialization.from_primitive(copy.deepcopy(primitive))  # warm up
    imported = []
    real_import = builtins.__import__

    def spy(name, *args, **kwargs):
        imported.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", spy)
    monkeypatch.setattr(
        importlib, "import_module", lambda *a, **k: imported.append(a)
    )
    for name in ("subprocess.Popen", "os_vif.objects.vif.VIFBase.__init__",
                 "builtins.eval", "PodState"):
        doc = copy.deepcopy(primitive)
        doc[NAME] = name
        doc["versioned_object.namespace"] = "os_vif"
        try:
            serialization.from_primitive(doc)
        except exception.DeserializationError:
            pass
        else:
            raise AssertionError("%s loaded" % name)
    # (the test machinery itself may import, e.g. inspect; nothing the
    # data names is.)
    named = ("subprocess", "os_vif.objects.vif", "builtins", "PodState")
    assert [n for n in imported if str(n).startswith(named)] == []
