"""doc/source/examples/port_binding.py over oslo.messaging's fake transport.

The same example runs on a real broker, plugging for real, in
tests/functional/rpc.  Here the compute host runs os_vif's ``noop``
plugin (no host changes): the controller negotiates with what it reports.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import os_vif
from os_vif import exception
from os_vif.objects import host_info as hi
from os_vif.objects import instance_info
from os_vif.sandbox import vifs

EXAMPLE = (
    pathlib.Path(__file__).resolve().parents[3]
    / "doc" / "source" / "examples" / "port_binding.py"
)


def load_example() -> Any:
    """Import the example by path (doc/ is not a package)."""
    module = sys.modules.get("port_binding_example")
    if module is None:
        spec = importlib.util.spec_from_file_location(
            "port_binding_example", EXAMPLE
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["port_binding_example"] = module
        spec.loader.exec_module(module)
    return module


example = load_example()
#: The Neutron port the candidate VIFs are for.
PORT_ID = "a7c2e0d4-1b3f-4e5a-9c8d-7f6e5d4c3b2a"
INSTANCE = instance_info.InstanceInfo(
    uuid="0e4c6a1f-2b3d-4c5e-8f9a-0b1c2d3e4f5a", name="vm", project_id="p"
)


class RecordingEndpoint(example.ComputeEndpoint):
    """The example's endpoint, noting what it was asked to plug."""

    def __init__(self, info: hi.HostInfo) -> None:
        super().__init__(info)
        self.plugged: list[Any] = []

    def plug(self, ctxt: Any, vif: Any, instance_info: Any) -> str:
        self.plugged.append(vif)
        return super().plug(ctxt, vif, instance_info)


@pytest.fixture
def host() -> Iterator[tuple[Any, RecordingEndpoint, str]]:
    os_vif.initialize()
    info = os_vif.host_info()
    info.plugin_info = [p for p in info.plugin_info
                        if p.plugin_name == "noop"]
    # This host reads VIFVHostUser 1.0 only (an older os_vif).
    for vif_info in info.plugin_info[0].vif_info:
        if vif_info.vif_object_name == "VIFVHostUser":
            vif_info.max_version = "1.0"
    transport = example.transport("fake:/")
    name = "compute-%s" % uuid.uuid4().hex[:6]
    endpoint = RecordingEndpoint(info)
    server = example.compute_server(transport, name, endpoint)
    server.start()
    try:
        yield transport, endpoint, name
    finally:
        server.stop()
        server.wait()
        transport.cleanup()


def test_binds_the_first_vif_the_host_plugs(host) -> None:
    transport, endpoint, name = host
    controller = example.Controller(transport, timeout=10)
    ovs = example.candidate_vifs(PORT_ID, "52:54:00:0e:0e:01", "br-x", "tap-x")
    # Neither the ovs nor the linux_bridge plugin runs there.
    with pytest.raises(exception.NoMatchingPlugin):
        controller.bind(name, ovs, INSTANCE)
    # Another candidate for the same port, one the noop plugin takes.
    vhostuser = vifs.vhostuser_vif(
        path="/run/vhu0", plugin="noop", vid=PORT_ID
    )
    bound = controller.bind(name, [*ovs, vhostuser], INSTANCE)
    assert bound.obj_name() == "VIFVHostUser"
    assert bound.VERSION == "1.0"  # what the host reads
    assert endpoint.plugged == [bound]
    assert endpoint.plugged[0].VERSION == "1.0"
    assert controller.unplug(name, bound, INSTANCE) == bound.id


def test_sending_a_vif_the_host_cannot_read_fails_before_sending(host):
    transport, endpoint, name = host
    controller = example.Controller(transport, timeout=10)
    controller.host_info(name)
    ovs = example.candidate_vifs(
        PORT_ID, "52:54:00:0e:0e:01", "br-x", "tap-x"
    )[0]
    with pytest.raises(exception.NoMatchingPlugin):
        controller.plug(name, ovs, INSTANCE)
    assert endpoint.plugged == []
