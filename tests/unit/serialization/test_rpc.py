"""os_vif.serialization.RPCSerializer, in process.

Over a real broker, with a peer running os-vif 5.3.0, in
tests/functional/rpc.  Here: what it writes for which peer, what it
refuses, the strict loader on nested payloads, composition with other
serializers, and oslo.messaging's in-process transport end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

import oslo_messaging
import pytest
from oslo_config import cfg
from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields as ovo_fields

from os_vif import exception, objects, serialization
from os_vif.objects import base as osv_base
from os_vif.objects import host_info as hi
from tests import wire_samples

objects.register_all()

CTXT: dict[str, Any] = {}


def vif(name: str = "VIFOpenVSwitch") -> Any:
    return wire_samples.build_sample(name, "populated")


def host(vif_name: str, low: str, high: str, profile: str = "",
         plugin: str = "ovs", plow: str = "1.0", phigh: str = "1.4") -> Any:
    profiles = []
    if profile:
        profiles = [hi.HostPortProfileInfo(
            profile_object_name=profile, min_version=plow, max_version=phigh)]
    return hi.HostInfo(plugin_info=[hi.HostPluginInfo(
        plugin_name=plugin,
        vif_info=[hi.HostVIFInfo(
            vif_object_name=vif_name, min_version=low, max_version=high,
            supported_port_profiles=profiles)],
    )])


def roundtrip(ser: Any, entity: Any) -> Any:
    return ser.deserialize_entity(
        CTXT, json.loads(json.dumps(ser.serialize_entity(CTXT, entity)))
    )


def test_current_versions_without_peer_information() -> None:
    ser = serialization.RPCSerializer()
    obj = vif()
    assert ser.serialize_entity(CTXT, obj) == serialization.to_primitive(obj)
    assert roundtrip(ser, obj) == obj


def test_objects_anywhere_in_nested_containers() -> None:
    ser = serialization.RPCSerializer()
    a, b = vif(), vif("VIFBridge")
    info = wire_samples.build_sample("HostInfo", "populated")
    entity = {"vifs": [a, {"inner": (b, 3)}], "host": info, "n": None}
    sent = ser.serialize_entity(CTXT, entity)
    assert sent["vifs"][1]["inner"] == [serialization.to_primitive(b), 3]
    back = ser.deserialize_entity(CTXT, json.loads(json.dumps(sent)))
    assert back["vifs"][0] == a and back["vifs"][1]["inner"][0] == b
    assert back["host"] == info and back["n"] is None
    # A tuple handed over in process (the fake driver) stays a tuple.
    assert ser.deserialize_entity(CTXT, (sent["host"],)) == (info,)


def test_sends_for_the_host_info_the_peer_reported() -> None:
    obj = vif("VIFVHostUser")  # 1.1, FPOpenVSwitch profile 1.4
    peer = host("VIFVHostUser", "1.0", "1.0", "VIFPortProfileFPOpenVSwitch",
                phigh="1.2")
    ser = serialization.RPCSerializer(peer)
    sent = ser.serialize_entity(CTXT, obj)
    assert sent["versioned_object.version"] == "1.0"
    profile = sent["versioned_object.data"]["port_profile"]
    assert profile["versioned_object.version"] == "1.2"
    assert sent == serialization.to_primitive(obj, peer)


def test_peers_by_name_share_one_cache() -> None:
    ser = serialization.RPCSerializer()
    obj = vif("VIFVHostUser")
    to_a = ser.for_peer("compute-a")
    # Nothing known of the peer yet: current versions.
    assert to_a.serialize_entity(CTXT, obj)[
        "versioned_object.version"] == "1.1"
    ser.remember("compute-a", host(
        "VIFVHostUser", "1.0", "1.0", "VIFPortProfileFPOpenVSwitch"))
    assert to_a.serialize_entity(CTXT, obj)[
        "versioned_object.version"] == "1.0"
    entry = ser.peers.get("compute-a")
    assert entry is not None
    to_a.serialize_entity(CTXT, obj)
    assert len(entry._vif_manifests) == 1  # noqa: SLF001 - the cache
    # Another name is another peer; a manifest works as well.
    to_b = ser.for_peer("compute-b")
    ser.remember("compute-b", ovo_base.obj_tree_get_versions("VIFVHostUser"))
    assert to_b.serialize_entity(CTXT, obj) == serialization.to_primitive(obj)
    ser.forget("compute-a")
    assert to_a.serialize_entity(CTXT, obj)[
        "versioned_object.version"] == "1.1"


@pytest.mark.parametrize(
    "peer,error",
    [
        (host("VIFOpenVSwitch", "1.0", "1.0", plugin="linux_bridge"),
         exception.NoMatchingPlugin),
        (host("VIFBridge", "1.0", "1.0"), exception.NoMatchingVIFClass),
        (host("VIFOpenVSwitch", "2.0", "2.3"),
         exception.NoSupportedVIFVersion),
        (host("VIFOpenVSwitch", "1.0", "1.0", "VIFPortProfileFPTap"),
         exception.NoMatchingPortProfileClass),
        ({"VIFBridge": "1.0"}, exception.NoMatchingVIFClass),
        ({"VIFOpenVSwitch": "2.0"}, exception.NoSupportedVIFVersion),
        (dict(ovo_base.obj_tree_get_versions("VIFOpenVSwitch"),
              VIFPortProfileBase="2.1"),
         exception.NoSupportedPortProfileVersion),
        ({k: v for k, v in ovo_base.obj_tree_get_versions(
            "VIFOpenVSwitch").items() if k != "Network"},
         exception.InvalidArgument),
    ],
    ids=["plugin", "vif-type", "vif-major", "profile", "manifest-type",
         "manifest-major", "manifest-profile-major", "manifest-nested"],
)
def test_refuses_before_sending_what_the_peer_cannot_read(peer, error):
    ser = serialization.RPCSerializer(peer)
    with pytest.raises(error) as caught:
        ser.serialize_entity(CTXT, {"vif": vif()})
    assert str(caught.value)
    # The same, from the cache.
    with pytest.raises(error):
        ser.serialize_entity(CTXT, [vif()])


def test_rejects_what_is_not_a_peer_description() -> None:
    with pytest.raises(exception.InvalidArgument):
        serialization.RPCSerializer(["VIFOpenVSwitch"])
    with pytest.raises(exception.InvalidArgument):
        serialization.RPCSerializer({"VIFOpenVSwitch": "one"})


@pytest.mark.parametrize(
    "mutate,path,reason",
    [
        (lambda p: p["versioned_object.data"].update(address="nope"),
         "[1].vif.address", "MAC"),
        (lambda p: p.update({"versioned_object.namespace": "nova"}),
         "[1].vif.versioned_object.namespace", "namespace"),
        (lambda p: p.update({"versioned_object.name": "Instance"}),
         "[1].vif", "Instance"),
        (lambda p: p["versioned_object.data"].update(evil={"a": 1}),
         "[1].vif.evil", ""),
    ],
    ids=["bad-mac", "foreign-namespace", "unknown-class", "unknown-field"],
)
def test_strict_loading_with_the_path(mutate, path, reason) -> None:
    ser = serialization.RPCSerializer()
    prim = serialization.to_primitive(vif())
    mutate(prim)
    with pytest.raises(exception.DeserializationError) as caught:
        ser.deserialize_entity(CTXT, [1, {"vif": prim}])
    assert caught.value.path == path, caught.value
    assert reason in caught.value.reason


def test_limits_hold_for_containers() -> None:
    ser = serialization.RPCSerializer()
    deep: Any = 1
    for _ in range(serialization.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(exception.DeserializationError) as caught:
        ser.deserialize_entity(CTXT, deep)
    assert "deeper" in caught.value.reason
    with pytest.raises(exception.DeserializationError):
        ser.deserialize_entity(
            CTXT, list(range(serialization.MAX_LIST_ITEMS + 1))
        )
    with pytest.raises(exception.DeserializationError) as caught:
        ser.deserialize_entity(CTXT, {1: 2})
    assert "keys" in caught.value.reason


class _OsVifOVOSerializer(ovo_base.VersionedObjectSerializer):
    """What an os-vif 5.x service uses: OVO's serializer, os_vif's base."""

    OBJ_BASE_CLASS = osv_base.VersionedObject


def test_interoperates_with_versioned_object_serializer() -> None:
    ours, theirs = serialization.RPCSerializer(), _OsVifOVOSerializer()
    entity = {"vifs": [vif(), vif("VIFBridge")], "host": wire_samples
              .build_sample("HostInfo", "populated")}
    sent = json.loads(json.dumps(ours.serialize_entity(CTXT, entity)))
    assert theirs.deserialize_entity(CTXT, sent) == entity
    back = json.loads(json.dumps(theirs.serialize_entity(CTXT, entity)))
    assert ours.deserialize_entity(CTXT, back) == entity


@ovo_base.VersionedObjectRegistry.register
class _Foreign(ovo_base.VersionedObject):
    """An object of another project (nova's Instance, say)."""

    OBJ_PROJECT_NAMESPACE = "elsewhere"
    VERSION = "1.0"
    fields = {"name": ovo_fields.StringField()}


class _ForeignSerializer(ovo_base.VersionedObjectSerializer):
    OBJ_BASE_CLASS = _Foreign


class _ContextSerializer(oslo_messaging.Serializer):
    """Nova's RequestContextSerializer, in short: wraps a base."""

    def __init__(self, base: Any) -> None:
        self._base = base

    def serialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return self._base.serialize_entity(ctxt, entity)

    def deserialize_entity(self, ctxt: Any, entity: Any) -> Any:
        return self._base.deserialize_entity(ctxt, entity)

    def serialize_context(self, ctxt: Any) -> Any:
        return dict(ctxt, wrapped=True)

    def deserialize_context(self, ctxt: Any) -> Any:
        return dict(ctxt, unwrapped=True)


def test_composes_both_ways() -> None:
    # Wrapped (as nova's RequestContextSerializer wraps its serializer).
    outer = _ContextSerializer(serialization.RPCSerializer())
    obj = vif()
    assert outer.deserialize_entity(
        CTXT, outer.serialize_entity(CTXT, [obj])) == [obj]
    # Wrapping: other projects' objects and the context go to ``base``.
    ser = serialization.RPCSerializer(base=_ContextSerializer(
        _ForeignSerializer()))
    foreign = _Foreign(name="vm-1")
    sent = ser.serialize_entity(CTXT, {"vif": obj, "other": foreign})
    assert sent["other"]["versioned_object.namespace"] == "elsewhere"
    back = ser.deserialize_entity(CTXT, json.loads(json.dumps(sent)))
    assert back["vif"] == obj and isinstance(back["other"], _Foreign)
    assert ser.serialize_context({"a": 1}) == {"a": 1, "wrapped": True}
    assert ser.deserialize_context({}) == {"unwrapped": True}
    # Without a base, a foreign primitive is refused, not half-loaded.
    with pytest.raises(exception.DeserializationError):
        serialization.RPCSerializer().deserialize_entity(CTXT, sent)


class _Endpoint:
    target = oslo_messaging.Target(namespace="os_vif_test", version="1.0")

    def __init__(self) -> None:
        self.got: list[Any] = []

    def echo(self, ctxt: Any, value: Any) -> Any:
        self.got.append(value)
        return value


def test_over_the_fake_transport() -> None:
    # oslo.messaging's tracing reads its options from the global CONF.
    transport = oslo_messaging.get_rpc_transport(cfg.CONF, url="fake:/")
    target = oslo_messaging.Target(topic="os_vif_unit", server="h1")
    endpoint = _Endpoint()
    server = oslo_messaging.get_rpc_server(
        transport, target, [endpoint],
        serializer=serialization.RPCSerializer(),
    )
    server.start()
    try:
        client = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic="os_vif_unit",
                                             server="h1",
                                             namespace="os_vif_test"),
            serializer=serialization.RPCSerializer(),
        )
        obj = vif()
        result = client.call({}, "echo", value={"vif": obj, "n": [1]})
        assert result == {"vif": obj, "n": [1]}
        assert endpoint.got[0]["vif"] == obj
        # Refused before sending: the server sees nothing.
        refusing = client.prepare()
        refusing.serializer = serialization.RPCSerializer({"VIFBridge": "1.0"})
        with pytest.raises(exception.NoMatchingVIFClass):
            refusing.call({}, "echo", value=obj)
        assert len(endpoint.got) == 1
    finally:
        server.stop()
        server.wait()
        transport.cleanup()
    assert threading.active_count() >= 1


def test_importing_os_vif_does_not_import_the_rpc_module() -> None:
    code = (
        "import sys, os_vif, os_vif.serialization;"
        "assert 'os_vif._serialization.rpc' not in sys.modules;"
        "from os_vif.serialization import RPCSerializer;"
        "assert 'os_vif._serialization.rpc' in sys.modules"
    )
    subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True)
