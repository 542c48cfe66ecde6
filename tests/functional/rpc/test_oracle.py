"""Over the broker with a peer running the real os-vif 5.3.0.

The peer (tests/functional/rpc/oracle_peer.py, in an isolated venv) uses
oslo.versionedobjects' own VersionedObjectSerializer, as os-vif 5.x
services do; we use RPCSerializer.  Every VIF type and HostInfo sample of
tests/wire_samples.py, alone and nested in containers, goes both ways and
arrives whole; a peer advertising older versions is sent objects at them.
"""

from __future__ import annotations

from typing import Any

import oslo_messaging
import pytest

from os_vif import exception, serialization
from tests import wire_samples
from tests.functional.rpc import oracle_peer as peer_code

pytestmark = pytest.mark.functional

# What os-vif 5.3.0 has: kuryr's types are ours since 6.0 only.
VIF_TYPES_530 = (
    "VIFBridge", "VIFDirect", "VIFGeneric", "VIFHostDevice",
    "VIFNestedDPDK", "VIFOpenVSwitch", "VIFVHostUser",
)
KURYR_TYPES = ("VIFVlanNested", "VIFMacvlanNested", "VIFDPDKNested",
               "VIFSriov")
SAMPLES = [
    (s.object_name, s.sample_name)
    for s in wire_samples.build_samples()
    if s.object_name in VIF_TYPES_530 + ("HostInfo",)
]


def client(transport: Any, peer: Any, serializer: Any) -> Any:
    topic, server = peer
    return oslo_messaging.get_rpc_client(
        transport,
        oslo_messaging.Target(topic=topic, server=server,
                              namespace="os_vif_oracle", version="1.0"),
        serializer=serializer,
        timeout=60,
    )


@pytest.fixture(scope="module")
def peer_530(rpc_env: Any, transport: Any, oracle_peer: Any) -> Any:
    """A client for the 5.3.0 peer, writing for the manifest it advertises."""
    ours = serialization.RPCSerializer()
    with rpc_env.inside():
        manifest = client(transport, oracle_peer, ours).call({}, "versions")
    assert manifest["VIFOpenVSwitch"] == "1.0"
    assert "VIFVlanNested" not in manifest
    ours.remember("oracle", manifest)
    return client(transport, oracle_peer, ours.for_peer("oracle"))


def test_every_sample_we_send_arrives_whole(rpc_env: Any, peer_530: Any):
    with rpc_env.inside():
        for name, sample in SAMPLES:
            obj = wire_samples.build_sample(name, sample)
            got = peer_530.call({}, "describe", value=obj)
            assert got == peer_code.describe(obj), (name, sample)


def test_every_sample_they_send_loads_whole(rpc_env: Any, peer_530: Any):
    with rpc_env.inside():
        for name, sample in SAMPLES:
            got = peer_530.call({}, "sample", object_name=name,
                                sample_name=sample)
            assert type(got).__name__ == name
            assert got == wire_samples.build_sample(name, sample), sample


def test_nested_containers_both_ways(rpc_env: Any, peer_530: Any) -> None:
    ovs = wire_samples.build_sample("VIFOpenVSwitch", "representor")
    bridge = wire_samples.build_sample("VIFBridge", "populated")
    info = wire_samples.build_sample("HostInfo", "populated")
    value = {"vifs": [ovs, {"inner": (bridge, info, 7)}], "none": None}
    with rpc_env.inside():
        described = peer_530.call({}, "describe", value=value)
        back = peer_530.call({}, "echo", value=value)
    assert described == peer_code.describe(value)
    assert back == {"vifs": [ovs, {"inner": [bridge, info, 7]}],
                    "none": None}


def test_what_the_peer_cannot_read_is_refused_before_sending(
    rpc_env: Any, peer_530: Any
) -> None:
    with rpc_env.inside():
        for name in KURYR_TYPES:
            obj = wire_samples.build_sample("HostInfo", "minimal")
            vif = _kuryr_vif(name)
            with pytest.raises(exception.NoMatchingVIFClass):
                peer_530.call({}, "describe", value=[obj, vif])
        # Nothing reached it: its counters are untouched by those calls.
        assert peer_530.call({}, "describe", value=1) == 1


def _kuryr_vif(name: str) -> Any:
    from tests.unit.objects import populate

    return populate.populated(name)


def test_a_peer_advertising_older_versions_gets_them(
    rpc_env: Any, transport: Any, oracle_peer: Any
) -> None:
    ours = serialization.RPCSerializer()
    with rpc_env.inside():
        old = client(transport, oracle_peer, ours).call(
            {}, "versions", older=True)
        ours.remember("oracle-old", old)
        to_old = client(transport, oracle_peer, ours.for_peer("oracle-old"))
        for name, sample in SAMPLES:
            obj = wire_samples.build_sample(name, sample)
            got = to_old.call({}, "describe", value=obj)
            for described in _objects(got):
                assert described["@version"] == old[described["@class"]], (
                    name, sample, described["@class"])
            # What it loaded is what we send it: the same backport.
            sent = peer_code.describe(serialization.from_primitive(
                serialization.to_primitive(obj, old)))
            assert _without_defaults(got, sent) == sent, (name, sample)
            assert got["@version"] == "1.0"


def _without_defaults(got: Any, sent: Any) -> Any:
    """``got`` without the fields os-vif 5.3.0's constructors set.

    Its ``Network()`` sets ``subnets``, ``multi_host``, ``should_provide_*``
    and ``mtu`` itself, and oslo.versionedobjects' loader calls it: a
    Network 1.0 loaded there has them, though they were not sent (and
    ``mtu`` is not a field of 1.0).
    """
    if isinstance(got, dict) and isinstance(sent, dict):
        kept = {}
        for key, value in got.items():
            if key not in sent and got.get("@class") == "Network":
                continue
            kept[key] = _without_defaults(value, sent.get(key))
        return kept
    if isinstance(got, list) and isinstance(sent, list):
        pairs = zip(got, sent, strict=True)
        return [_without_defaults(g, s) for g, s in pairs]
    return got


def _objects(described: Any) -> Any:
    if isinstance(described, dict):
        if "@class" in described:
            yield described
        for value in described.values():
            yield from _objects(value)
    elif isinstance(described, list):
        for value in described:
            yield from _objects(value)


def test_os_vif_530_loses_what_the_issue_says() -> None:
    """tools/manifest_loss.py under the real os-vif 5.3.0: 6 of 15 whole."""
    import json
    import subprocess

    from tests.functional.rpc import conftest, oracle

    python = oracle.python_or_skip()
    out = subprocess.run(
        [python, "-W", "ignore",
         conftest.ROOT + "/tools/manifest_loss.py"],
        capture_output=True, text=True, check=True, timeout=120,
        cwd="/",
    ).stdout
    report = json.loads(out)
    assert "/os_vif/" in report["os_vif"] and conftest.ROOT not in (
        report["os_vif"])
    path = report["paths"]["obj_to_primitive"]
    assert (path["tried"], path["kept_whole"]) == (15, 6)
    assert {
        field for fields in path["lost"].values() for field in fields
    } == {"port_profile.create_port", "port_profile.create_tap",
          "port_profile.multiqueue"}
