"""What os-vif 5.3.0 plugged, this os_vif unplugs (a host after upgrade).

The real os-vif 5.3.0 (isolated virtualenv, see
:mod:`tests.functional.oracle_530`) plugs VIFs into the private switch in
its namespace; then this checkout's ``os_vif.unplug`` -- a nova-compute
restarted on the new version -- must remove all of it.  Whatever rules
decide what os_vif may delete, these devices are os_vif's own.
"""

from __future__ import annotations

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif.plugins.ovs import naming
from os_vif.sandbox import vifs
from os_vif.sandbox.ovs import OvsServer
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]


def _links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


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
