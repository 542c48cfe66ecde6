"""The port binding example end to end, over the private broker.

The controller (here) asks the compute host (the example's own process, in
the session's namespace) for its HostInfo, negotiates, sends the VIF; the
host plugs it for real with the linux_bridge plugin: the bridge appears in
the namespace, and goes with the unplug.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2 import IPRoute

from os_vif import exception
from os_vif.objects import instance_info
from tests.unit.serialization import test_port_binding_example as unit

pytestmark = pytest.mark.functional

example = unit.load_example()
INSTANCE = instance_info.InstanceInfo(
    uuid="0e4c6a1f-2b3d-4c5e-8f9a-0b1c2d3e4f5a", name="vm", project_id="p"
)
PORT = "a7c2e0d4-1b3f-4e5a-9c8d-7f6e5d4c3b2a"


def host_links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}


def test_bind_plugs_in_the_namespace(
    rpc_env: Any, transport: Any, compute_host: str
) -> None:
    bridge = "brx-rpc0"
    assert bridge not in host_links()
    vifs = example.candidate_vifs(PORT, "52:54:00:0e:0e:01", bridge, "tapx0")
    with rpc_env.inside():
        controller = example.Controller(transport, timeout=60)
        info = controller.host_info(compute_host)
        assert {p.plugin_name for p in info.plugin_info} == {
            "linux_bridge", "noop"}
        # The Open vSwitch candidate is refused by negotiation, before
        # anything is sent: the Linux bridge one is chosen.
        with pytest.raises(exception.NoMatchingPlugin):
            controller.plug(compute_host, vifs[0], INSTANCE)
        bound = controller.bind(compute_host, vifs, INSTANCE)
    assert bound.obj_name() == "VIFBridge"
    links = rpc_env.links()
    assert bridge in links
    assert links[bridge].get_attr("IFLA_MTU") == 1450
    assert links[bridge].get_attr("IFLA_OPERSTATE") in ("UP", "UNKNOWN")
    assert bridge not in host_links()
    with rpc_env.inside():
        # Plug is idempotent, over RPC too.
        assert controller.plug(compute_host, bound, INSTANCE) == PORT
        assert controller.unplug(compute_host, bound, INSTANCE) == PORT
    assert bridge not in rpc_env.links()


def test_a_failed_plug_comes_back_as_the_os_vif_exception(
    rpc_env: Any, transport: Any, compute_host: str
) -> None:
    vif = example.candidate_vifs(
        PORT, "52:54:00:0e:0e:01", "br-" + "x" * 20, "tapx1")[1]
    with rpc_env.inside():
        controller = example.Controller(transport, timeout=60)
        controller.host_info(compute_host)
        # An interface name too long for the kernel: refused on the host.
        with pytest.raises(exception.ExceptionBase) as caught:
            controller.plug(compute_host, vif, INSTANCE)
    assert "br-xxxx" in str(caught.value)
