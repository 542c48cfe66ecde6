"""linux_bridge VIFs naming host devices os_vif does not own.

A veth of the host as the VIF's tap; the network's bridge, made by someone
else and carrying a port of its own: plug and unplug leave them exactly as
they were (the bridge is used, never deleted).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from oslo_config import cfg
from pyroute2 import IPRoute

import os_vif
from os_vif import exception
from os_vif.internal import linkstate
from os_vif.sandbox import vifs
from tests.functional import host_links

pytestmark = [pytest.mark.functional]

INSTANCE = vifs.INSTANCE
GROUP = "os_vif_linux_bridge"


def host_state() -> dict[str, Any]:
    links = host_links.link_states()
    return {
        "links": links,
        "ipv6": linkstate.read_sysctl("hostbr0", "ipv6", "disable_ipv6"),
    }


@pytest.fixture
def foreign(netns) -> Iterator[dict[str, Any]]:
    os_vif.initialize()
    cfg.CONF.set_override("create_tap", True, group=GROUP)
    with IPRoute() as ipr:
        ipr.link("add", ifname="hostveth0", kind="veth", peer="hostveth1")
        # Set up as the VIF's network wants it (its MTU follows its port
        # to 1500): using it changes nothing.
        ipr.link("add", ifname="hostbr0", kind="bridge", mtu=1450)
        ipr.link("add", ifname="hostport0", kind="veth", peer="hostport1")
        bridge = ipr.link_lookup(ifname="hostbr0")[0]
        ipr.link("set", index=bridge, state="up")
        ipr.link(
            "set", index=ipr.link_lookup(ifname="hostport0")[0], master=bridge
        )
    with open("/proc/sys/net/ipv6/conf/hostbr0/disable_ipv6", "w") as f:
        f.write("1")
    try:
        yield host_state()
    finally:
        cfg.CONF.clear_override("create_tap", group=GROUP)


def test_a_tap_naming_a_host_veth(foreign):
    vif = vifs.bridge_vif(
        30, bridge="hostbr0", tap="hostveth0", filtering=True
    )
    with pytest.raises(exception.PlugException) as caught:
        os_vif.plug(vif, INSTANCE)
    assert isinstance(
        caught.value.kwargs["err"], exception.HostOperationRefused
    )
    assert "hostveth0" in str(caught.value)
    assert host_state() == foreign
    with pytest.raises(exception.UnplugException):
        os_vif.unplug(vif, INSTANCE)
    assert host_state() == foreign


def test_a_bridge_with_another_port_is_used_and_kept(foreign):
    vif = vifs.bridge_vif(31, bridge="hostbr0", filtering=True, mtu=1500)
    os_vif.plug(vif, INSTANCE)
    assert linkstate.get_device(vif.vif_name).master == "hostbr0"
    os_vif.unplug(vif, INSTANCE)
    assert host_state() == foreign
    # Again, from nothing: unplug is idempotent and keeps the bridge.
    os_vif.unplug(vif, INSTANCE)
    assert host_state() == foreign
