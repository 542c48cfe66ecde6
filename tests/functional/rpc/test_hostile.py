"""Malformed and hostile payloads from the broker.

Sent to the example's compute host past our serializer (a client with
oslo.messaging's NoOpSerializer, and raw AMQP messages).  Each gets the
documented DeserializationError back, with the path and the reason, and
nothing is plugged; the host keeps serving.
"""

from __future__ import annotations

import copy
from typing import Any

import kombu
import oslo_messaging
import pytest

from os_vif import exception, serialization
from os_vif.objects import instance_info
from tests.functional.rpc import conftest
from tests.unit.serialization import test_port_binding_example as unit

pytestmark = pytest.mark.functional

example = unit.load_example()
INSTANCE = serialization.to_primitive(instance_info.InstanceInfo(
    uuid="0e4c6a1f-2b3d-4c5e-8f9a-0b1c2d3e4f5a", name="vm", project_id="p"
))


def good_vif() -> dict[str, Any]:
    vif = example.candidate_vifs(
        "a7c2e0d4-1b3f-4e5a-9c8d-7f6e5d4c3b2a", "52:54:00:0e:0e:01",
        "brx-hostile", "tapx-hostile")[1]
    return serialization.to_primitive(vif)


def with_data(**changes: Any) -> dict[str, Any]:
    vif = good_vif()
    vif["versioned_object.data"].update(changes)
    return vif


def nested(depth: int) -> Any:
    value: Any = good_vif()
    for _ in range(depth):
        value = [value]
    return value


HOSTILE = [
    ("bad-mac", with_data(address="52:54:00:zz:00:01"), "address", "MAC"),
    ("bridge-name-type", with_data(bridge_name=["x"]), "bridge_name",
     "string"),
    ("unknown-field", with_data(evil="x"), "evil", "field"),
    ("foreign-class", dict(good_vif(), **{
        "versioned_object.namespace": "nova",
        "versioned_object.name": "Instance"}),
     "versioned_object.namespace", "namespace"),
    ("future-version", dict(good_vif(), **{
        "versioned_object.version": "9.0"}),
     "", "version"),
    ("too-deep", nested(40), "", "deeper"),
    ("too-many-items", [0] * (serialization.MAX_LIST_ITEMS + 1), "",
     "items"),
    ("not-a-network", with_data(network={"a": 1}), "network", ""),
]


@pytest.fixture(scope="module")
def raw_client(rpc_env: Any, transport: Any, compute_host: str) -> Any:
    """A client that sends whatever it is given, unchecked."""
    return oslo_messaging.get_rpc_client(
        transport,
        oslo_messaging.Target(topic=example.TOPIC, server=compute_host,
                              namespace="os_vif", version="1.0"),
        serializer=oslo_messaging.NoOpSerializer(),
        timeout=60,
    )


def still_serving(rpc_env: Any, transport: Any, host: str) -> None:
    with rpc_env.inside():
        info = example.Controller(transport).host_info(host)
    assert info.plugin_info


@pytest.mark.parametrize(
    "payload,path,reason",
    [h[1:] for h in HOSTILE],
    ids=[h[0] for h in HOSTILE],
)
def test_hostile_payload_is_refused_with_the_path(
    rpc_env: Any, transport: Any, compute_host: str, raw_client: Any,
    payload: Any, path: str, reason: str,
) -> None:
    with rpc_env.inside():
        with pytest.raises(exception.DeserializationError) as caught:
            raw_client.call({}, "plug", vif=copy.deepcopy(payload),
                            instance_info=INSTANCE)
    err = caught.value
    assert reason.lower() in str(err).lower(), err
    if path:
        assert path in str(err), err
    assert "brx-hostile" not in rpc_env.links()
    still_serving(rpc_env, transport, compute_host)


def test_garbage_on_the_queue_does_not_stop_the_host(
    rpc_env: Any, transport: Any, compute_host: str
) -> None:
    url = rpc_env.broker.url.replace("rabbit://", "amqp://")
    with rpc_env.inside():
        with kombu.Connection(url) as conn:
            producer = conn.Producer()
            for body, content_type in (
                (b"\x00\xffnot json{", "application/json"),
                (b'{"oslo.version": "2.0", "oslo.message": "[1,"}',
                 "application/json"),
                (b'{"method": 42}', "application/json"),
            ):
                producer.publish(
                    body,
                    exchange="openstack",
                    routing_key="%s.%s" % (example.TOPIC, compute_host),
                    content_type=content_type,
                    content_encoding="binary",
                )
    still_serving(rpc_env, transport, compute_host)
    assert conftest.COMPUTE_HOST == compute_host
