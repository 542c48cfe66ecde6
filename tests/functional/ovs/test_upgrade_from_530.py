"""What os-vif 5.3.0 plugged, this os_vif unplugs (a host after upgrade).

The real os-vif 5.3.0 (isolated virtualenv, see
:mod:`tests.functional.oracle_530`) plugs VIFs into the private switch in
its namespace; then this checkout's ``os_vif.unplug`` -- a nova-compute
restarted on the new version -- must remove all of it.  Whatever rules
decide what os_vif may delete, these devices are os_vif's own.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif import exception
from os_vif.internal import linkstate
from os_vif.plugins.ovs import naming
from os_vif.sandbox import vifs
from os_vif.sandbox.ovs import OvsServer
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]


def _links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


_QBR_SYSCTLS = (("ipv6", "disable_ipv6"), ("ipv4", "arp_ignore"))


def _hybrid_state(vif: Any) -> dict[str, Any]:
    """What a hybrid plug may change on its devices (None: absent).

    Not the bridge's MAC: a bridge whose MAC was never set takes its
    lowest port's, and zero without ports -- the kernel's doing.
    """
    state: dict[str, Any] = {}
    qbr = naming.hybrid_names(vif.id)[0]
    for name in naming.hybrid_names(vif.id):
        device = linkstate.get_device(name)
        state[name] = device and {
            "kind": device.kind,
            "mtu": device.mtu,
            "up": device.up,
            "master": device.master,
            "made_by_os_vif": device.made_by_os_vif,
        }
    if state[qbr] is not None:
        for family, key in _QBR_SYSCTLS:
            state[qbr]["%s.%s" % (family, key)] = linkstate.read_sysctl(
                qbr, family, key
            )
    return state


def _write_sysctl(name: str, family: str, key: str, value: int) -> None:
    with open("/proc/sys/net/%s/conf/%s/%s" % (family, name, key), "w") as f:
        f.write(str(value))


def _failed_plug_undoes(
    ovs_plugin: Any,
    ovs: OvsServer,
    vif: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Plug ``vif`` with its port refused by OVSDB: all of it is undone.

    The qbr (os-vif 5.x's, not os_vif's) and the veth are back as they
    were (a veth the plug made is gone), and no undo was refused.
    """
    qvo = naming.hybrid_names(vif.id)[2]
    before = _hybrid_state(vif)
    ovsdb_rows.block_interface_name(ovs, qvo)
    caplog.set_level(logging.WARNING)
    with pytest.raises(exception.HostOperationFailed):
        ovs_plugin.plug(vif, vifs.INSTANCE)
    assert "Could not undo" not in caplog.text
    assert _hybrid_state(vif) == before
    assert ovsdb_rows.row(ovs, "Port", qvo) is None


def test_unplug_removes_what_530_plugged(
    os_vif_530, ovs_plugin, ovs: OvsServer
) -> None:
    hybrid = vifs.hybrid_vif(0)
    plain = vifs.ovs_vif(1)
    qbr, qvb, qvo = naming.hybrid_names(hybrid.id)
    tap = plain.vif_name
    assert ovs.netns is not None

    result = os_vif_530.plug(
        [hybrid, plain],
        vifs.INSTANCE,
        netns=ovs.netns,
        ovsdb_connection=ovs.connection,
    )
    assert result.version == "5.3.0"
    made = result.created
    assert {
        name: (link["kind"], link["master"], link["mtu"])
        for name, link in made.links.items()
        if name in (qbr, qvb, qvo, tap)
    } == {
        qbr: ("bridge", None, 1450),
        qvb: ("veth", qbr, 1450),
        qvo: ("veth", None, 1450),
        tap: ("tun", None, 1450),
    }
    assert made.links[tap]["address"] == plain.address
    assert set(made.ports) == {"br-int", qvo, tap}
    for port, vif in ((qvo, hybrid), (tap, plain)):
        assert made.ports[port]["bridge"] == "br-int"
        external_ids = made.ports[port]["external_ids"]
        assert external_ids["iface-id"] == vif.port_profile.interface_id
        assert external_ids["attached-mac"] == vif.address
        assert external_ids["vm-uuid"] == vifs.INSTANCE.uuid
    assert made.bridges["br-int"]["datapath_type"] == "netdev"
    # The devices are in the switch's namespace, where this test runs.
    assert {qbr, qvb, qvo, tap} <= _links()

    os_vif.initialize()
    os_vif.unplug(hybrid, vifs.INSTANCE)
    os_vif.unplug(plain, vifs.INSTANCE)

    assert not {qbr, qvb, qvo, tap} & _links()
    for port in (qvo, tap):
        assert ovsdb_rows.row(ovs, "Port", port) is None
        assert ovsdb_rows.row(ovs, "Interface", port) is None
    # The integration bridge is the network's, not the VIF's: it stays.
    assert "br-int" in ovs.bridges()


def test_530_unplugs_what_we_plugged(os_vif_530, ovs_plugin, ovs) -> None:
    # A rollback: VIFs plugged by this os_vif, the host downgraded to 5.3.0.
    hybrid = vifs.hybrid_vif(2)
    plain = vifs.ovs_vif(3)
    qbr, qvb, qvo = naming.hybrid_names(hybrid.id)
    tap = plain.vif_name
    os_vif.initialize()
    os_vif.plug(hybrid, vifs.INSTANCE)
    os_vif.plug(plain, vifs.INSTANCE)
    assert ovs.netns is not None

    result = os_vif_530.unplug(
        [hybrid, plain],
        vifs.INSTANCE,
        netns=ovs.netns,
        ovsdb_connection=ovs.connection,
    )
    assert {qbr, qvb, qvo, tap} <= set(result.removed.links)
    assert set(result.removed.ports) == {qvo, tap}
    assert not {qbr, qvb, qvo, tap} & _links()
    assert ovsdb_rows.bridge_ports(ovs, "br-int") == ["br-int"]


def test_530_has_no_linux_bridge_plugin(os_vif_530, ovs) -> None:
    # os-vif 5.x dropped linux_bridge: no 5.x host has such devices, so
    # the upgrade rules need not recognise any.
    vif = vifs.bridge_vif(4, bridge="brq-test", tap="tap-lb-test")
    assert ovs.netns is not None
    with pytest.raises(
        AssertionError, match="NoMatchingPlugin: .* name linux_bridge"
    ):
        os_vif_530.plug(
            [vif],
            vifs.INSTANCE,
            netns=ovs.netns,
            ovsdb_connection=ovs.connection,
        )


def test_failed_plug_restores_the_qbr_530_made(
    os_vif_530, ovs_plugin, ovs: OvsServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A hybrid VIF plugged by 5.3.0; its network's MTU changed since, so
    # the re-plug after the upgrade changes the MTU of 5.3.0's qbr, qvb
    # and qvo -- and fails in OVSDB.
    hybrid = vifs.hybrid_vif(6)
    qbr, qvb, qvo = naming.hybrid_names(hybrid.id)
    assert ovs.netns is not None
    os_vif_530.plug(
        [hybrid],
        vifs.INSTANCE,
        netns=ovs.netns,
        ovsdb_connection=ovs.connection,
    )
    # Its port goes (so that another can hold the name); its devices stay.
    ovs.vsctl("del-port", qvo)
    state = _hybrid_state(hybrid)
    assert {name: state[name]["kind"] for name in state} == {
        qbr: "bridge",
        qvb: "veth",
        qvo: "veth",
    }
    assert {state[name]["mtu"] for name in state} == {1450}
    assert not any(state[name]["made_by_os_vif"] for name in state)
    _failed_plug_undoes(ovs_plugin, ovs, vifs.hybrid_vif(6, mtu=1400), caplog)
    # ...and unplugged after all.
    os_vif.initialize()
    os_vif.unplug(hybrid, vifs.INSTANCE)
    assert not {qbr, qvb, qvo} & _links()


def test_failed_plug_restores_a_5x_qbr(
    ovs_plugin, ovs: OvsServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A qbr as os-vif 5.x left it (no os_vif alias), with IPv6 and ARP
    # replies on and another MTU: the plug changes all three, and makes
    # the veth.
    hybrid = vifs.hybrid_vif(7)
    qbr, qvb, qvo = naming.hybrid_names(hybrid.id)
    with IPRoute() as ipr:
        ipr.link("add", ifname=qbr, kind="bridge", mtu=1500)
        ipr.link("set", index=ipr.link_lookup(ifname=qbr)[0], state="up")
    for family, key in _QBR_SYSCTLS:
        _write_sysctl(qbr, family, key, 0)
    assert _hybrid_state(hybrid) == {
        qbr: {
            "kind": "bridge",
            "mtu": 1500,
            "up": True,
            "master": None,
            "made_by_os_vif": False,
            "ipv6.disable_ipv6": 0,
            "ipv4.arp_ignore": 0,
        },
        qvb: None,
        qvo: None,
    }
    _failed_plug_undoes(ovs_plugin, ovs, hybrid, caplog)
    # The undo was needed: a plug that succeeds changes all of it.
    ovs.vsctl("del-br", "br-other")
    ovs_plugin.plug(hybrid, vifs.INSTANCE)
    plugged = _hybrid_state(hybrid)[qbr]
    assert (plugged["mtu"], plugged["ipv6.disable_ipv6"]) == (1450, 1)
    assert plugged["ipv4.arp_ignore"] == 1
