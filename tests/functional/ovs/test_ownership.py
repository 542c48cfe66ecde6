"""VIFs of the ovs plugin naming host objects os_vif does not own.

A host's veth, a bridge with a port of its own, the OVS port of another
VIF, a port with the VIF's name and another iface-id, a bridge of another
datapath type: plug and unplug refuse with an os_vif exception naming the
object, and leave every one of them exactly as it was.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif import exception
from os_vif.sandbox import vifs
from os_vif.sandbox.ovs import OvsServer
from tests.functional import host_links
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

INSTANCE = vifs.INSTANCE


def host_state(ovs: OvsServer) -> dict[str, Any]:
    """Every link (kind, MTU, state, master, alias) and every OVSDB row."""
    links = host_links.link_states()
    rows = {
        table: sorted(
            (str(r["name"]), repr(sorted(r.get("external_ids", {}).items())))
            for r in ovsdb_rows.rows(ovs, table)
        )
        for table in ("Bridge", "Port", "Interface")
    }
    datapaths = {
        r["name"]: r["datapath_type"] for r in ovsdb_rows.rows(ovs, "Bridge")
    }
    return {"links": links, "rows": rows, "datapaths": datapaths}


def settled_host_state(
    ovs: OvsServer, expected: dict[str, Any], seconds: float = 5.0
) -> dict[str, Any]:
    """:func:`host_state` once it is ``expected``, or after ``seconds``.

    ovs-vswitchd gives a bridge's internal ports the smallest MTU of its
    other ports, and sets it again in a later pass of its main loop after
    a port left: the unplug has returned by then (it waits for nothing of
    the kind, nor did os-vif 5.x; before deletions returned once the
    device was unlisted, the kernel's wait for the tap hid the delay).
    """
    deadline = time.monotonic() + seconds
    state = host_state(ovs)
    while state != expected and time.monotonic() < deadline:
        time.sleep(0.02)
        state = host_state(ovs)
    return state


@pytest.fixture
def foreign(ovs_plugin, ovs: OvsServer) -> dict[str, Any]:
    """Host objects os_vif does not own, in the switch's namespace."""
    os_vif.initialize()
    with IPRoute() as ipr:
        ipr.link("add", ifname="hostveth0", kind="veth", peer="hostveth1")
        ipr.link("add", ifname="hostbr0", kind="bridge")
        ipr.link("add", ifname="hostport0", kind="veth", peer="hostport1")
        bridge = ipr.link_lookup(ifname="hostbr0")[0]
        ipr.link("set", index=bridge, state="up")
        ipr.link(
            "set", index=ipr.link_lookup(ifname="hostport0")[0], master=bridge
        )
    # An operator's port with a VIF's name, and another iface-id.
    ovs.vsctl(
        "add-br",
        "br-int",
        "--",
        "set",
        "Bridge",
        "br-int",
        "datapath_type=netdev",
    )
    ovs.vsctl(
        "add-port",
        "br-int",
        "tapforeign0",
        "--",
        "set",
        "Interface",
        "tapforeign0",
        "type=internal",
        "external_ids:iface-id=someone-else",
    )
    return host_state(ovs)


def _refused(call: Any, vif: Any, device: str) -> None:
    wrapper = (
        exception.PlugException
        if call is os_vif.plug
        else exception.UnplugException
    )
    with pytest.raises(wrapper) as caught:
        call(vif, INSTANCE)
    err = caught.value.kwargs["err"]
    assert isinstance(err, exception.HostOperationRefused), err
    assert device in str(err)


def test_a_tap_vif_naming_a_host_veth(foreign, ovs):
    vif = vifs.ovs_vif(20)
    vif.vif_name = "hostveth0"
    _refused(os_vif.plug, vif, "hostveth0")
    assert host_state(ovs) == foreign
    _refused(os_vif.unplug, vif, "hostveth0")
    assert host_state(ovs) == foreign


def test_a_hybrid_vif_naming_a_bridge_with_another_port(foreign, ovs):
    vif = vifs.hybrid_vif(21)
    vif.bridge_name = "hostbr0"
    _refused(os_vif.plug, vif, "hostbr0")
    assert host_state(ovs) == foreign
    # Unplug removes this VIF's own devices (none here) and leaves the
    # bridge: os_vif did not make it.
    os_vif.unplug(vif, INSTANCE)
    assert host_state(ovs) == foreign


def test_a_vif_naming_the_port_of_another_vif(foreign, ovs):
    mine = vifs.ovs_vif(22)
    os_vif.plug(mine, INSTANCE)
    before = host_state(ovs)
    other = vifs.ovs_vif(23)
    other.vif_name = mine.vif_name
    _refused(os_vif.plug, other, "port " + mine.vif_name)
    assert host_state(ovs) == before
    _refused(os_vif.unplug, other, "port " + mine.vif_name)
    assert host_state(ovs) == before
    os_vif.unplug(mine, INSTANCE)
    assert settled_host_state(ovs, foreign) == foreign


def test_a_port_with_the_name_and_another_iface_id(foreign, ovs):
    vif = vifs.ovs_vif(24, create_tap=False)
    vif.vif_name = "tapforeign0"
    _refused(os_vif.plug, vif, "port tapforeign0")
    assert host_state(ovs) == foreign
    _refused(os_vif.unplug, vif, "port tapforeign0")
    assert host_state(ovs) == foreign


def test_a_bridge_of_another_datapath_type_is_not_switched(foreign, ovs):
    vif = vifs.ovs_vif(25)
    vif.port_profile.datapath_type = "system"
    with pytest.raises(exception.PlugException) as caught:
        os_vif.plug(vif, INSTANCE)
    message = str(caught.value.kwargs["err"])
    assert "netdev" in message and "system" in message and "br-int" in message
    assert host_state(ovs) == foreign


@pytest.mark.parametrize("bad", ["name", "mtu"])
def test_unplug_is_lenient_where_plug_is_strict(ovs_plugin, ovs, bad):
    """A VIF os-vif 5.x plugged with values plug now refuses is unplugged:
    its port is found by its iface-id."""
    os_vif.initialize()
    vif = vifs.ovs_vif(26, create_tap=False)
    if bad == "name":
        vif.vif_name = "tap0123456789abc"  # 16 bytes: no kernel device name
    else:
        vif.network.mtu = 70000
    ovs.vsctl(
        "add-br", "br-int", "--", "set", "Bridge", "br-int",
        "datapath_type=netdev",
    )
    ovs.vsctl(
        "add-port", "br-int", vif.vif_name, "--", "set", "Interface",
        vif.vif_name, "type=internal",
        "external_ids:iface-id=%s" % vif.port_profile.interface_id,
        "external_ids:attached-mac=%s" % vif.address,
    )
    with pytest.raises(exception.PlugException) as caught:
        os_vif.plug(vif, INSTANCE)
    assert isinstance(caught.value.kwargs["err"], exception.InvalidArgument)
    os_vif.unplug(vif, INSTANCE)
    assert ovsdb_rows.row(ovs, "Port", vif.vif_name) is None
    assert ovsdb_rows.row(ovs, "Interface", vif.vif_name) is None
