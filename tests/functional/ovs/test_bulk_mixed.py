"""os_vif.plug_many / unplug_many of 200 VIFs of three kinds, for real.

One batch mixes ``VIFOpenVSwitch`` (create_port + create_tap), hybrid
``VIFBridge`` (ovs plugin) and ``VIFBridge`` of the linux_bridge plugin,
plugged by the real privsep daemons into the kernel of the switch's
namespace and the private Open vSwitch.  Three bad VIFs among them fail
alone and leave nothing; the others are plugged, plugged again without a
change, unplugged to the last device and row, and unplugged again without
a change.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif import exception, host_state
from os_vif.sandbox import vifs
from os_vif.sandbox.ovs import OvsServer
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

INSTANCE = vifs.INSTANCE
OVS_VIFS = 80
HYBRID_VIFS = 60
LB_VIFS = 60
LB_BRIDGES = 4
FOREIGN_PORT = "tapforeign0"
#: Internal ports of the switch: ovs-vswitchd gives them the smallest MTU
#: of the bridge's other ports (os_vif does not set it), so it is not
#: compared.
OVS_INTERNAL = frozenset({"br-int", FOREIGN_PORT})


def links() -> dict[str, Any]:
    """Every link: kind, MTU (see OVS_INTERNAL), up, master, alias."""
    with IPRoute() as ipr:
        found = ipr.get_links()
    names = {link["index"]: link.get("ifname") for link in found}
    return {
        link.get("ifname"): (
            link.get(("linkinfo", "kind")),
            None if link.get("ifname") in OVS_INTERNAL else link.get("mtu"),
            link["flags"] & 1,
            names.get(link.get("master")),
            link.get("ifalias"),
        )
        for link in found
    }


def rows(ovs: OvsServer) -> dict[str, Any]:
    """Every bridge, port and interface row, with its external_ids."""
    return {
        table: sorted(
            (str(r["name"]), repr(sorted(r.get("external_ids", {}).items())))
            for r in ovsdb_rows.rows(ovs, table)
        )
        for table in ("Bridge", "Port", "Interface")
    }


def good_batch() -> list[Any]:
    """The 200 good VIFs: ovs with a tap, hybrid, linux_bridge."""
    batch: list[Any] = [vifs.ovs_vif(n) for n in range(OVS_VIFS)]
    batch += [vifs.hybrid_vif(1000 + n) for n in range(HYBRID_VIFS)]
    batch += [
        vifs.bridge_vif(
            n, bridge="br-lb%d" % (n % LB_BRIDGES), tap="lbt%03d" % n
        )
        for n in range(LB_VIFS)
    ]
    return batch


@pytest.fixture
def host(ovs_plugin: Any, ovs: OvsServer, conf: Any) -> dict[str, Any]:
    """Host objects os_vif does not own; the state before any batch."""
    os_vif.initialize()
    conf.config(create_tap=True, group="os_vif_linux_bridge")
    with IPRoute() as ipr:
        ipr.link("add", ifname="hostveth0", kind="veth", peer="hostveth1")
    ovs.vsctl(
        "add-br", "br-int", "--", "set", "Bridge", "br-int",
        "datapath_type=netdev",
    )
    ovs.vsctl(
        "add-port", "br-int", FOREIGN_PORT, "--", "set", "Interface",
        FOREIGN_PORT, "type=internal", "external_ids:iface-id=someone-else",
    )
    return {"links": links(), "rows": rows(ovs)}


def _bad_vifs() -> dict[str, Any]:
    # A tap name that is a host veth: the privileged daemon refuses it
    # (no OVSDB transaction beside it, so nothing refuses it earlier).
    refused = vifs.bridge_vif(900, bridge="br-bad", tap="hostveth0")
    # br-int is netdev; this VIF says system.
    datapath = vifs.ovs_vif(900)
    datapath.port_profile.datapath_type = "system"
    # A port of the VIF's name with another iface-id.
    in_the_way = vifs.ovs_vif(901, create_tap=False)
    in_the_way.vif_name = FOREIGN_PORT
    return {"refused": refused, "datapath": datapath, "row": in_the_way}


def _outcomes(call: Any, batch: list[Any]) -> tuple[list[Any], list[Any]]:
    seen: list[Any] = [None] * len(batch)

    def progress(index: int, result: Any) -> None:
        assert seen[index] is None, "progress twice for %d" % index
        seen[index] = result

    results = call([(vif, INSTANCE) for vif in batch], progress=progress)
    return results, seen


def _assert_plugged(ovs: OvsServer, batch: list[Any]) -> None:
    found = links()
    interfaces = {
        str(r["name"]): r.get("external_ids", {})
        for r in ovsdb_rows.rows(ovs, "Interface")
    }
    for vif in batch:
        if vif.plugin == "linux_bridge":
            assert found[vif.vif_name][3] == vif.bridge_name, vif.vif_name
            continue
        if isinstance(vif, vifs.vif_objects.VIFOpenVSwitch):
            port = vif.vif_name
            assert found[port][0] == "tun", port
        else:
            _, qvb, port = vifs_hybrid_names(vif)
            assert found[qvb][3] == vif.bridge_name, qvb
        assert interfaces[port]["iface-id"] == vif.port_profile.interface_id
        assert ovsdb_rows.port_bridge(ovs, port) == "br-int"


def vifs_hybrid_names(vif: Any) -> tuple[str, str, str]:
    """qbr, qvb, qvo of a hybrid VIF."""
    from os_vif.plugins.ovs import plan

    return plan.hybrid_devices(vif)


def test_200_vifs_with_3_bad_ones(host: dict[str, Any], ovs: OvsServer):
    good = good_batch()[:197]
    bad = _bad_vifs()
    batch = list(good)
    # Spread through the batch, one per kind of failure.
    positions = {"refused": 17, "datapath": 101, "row": 180}
    for what, position in sorted(positions.items(), key=lambda kv: kv[1]):
        batch.insert(position, bad[what])
    assert len(batch) == 200

    results, seen = _outcomes(os_vif.plug_many, batch)
    failed = {i for i, result in enumerate(results) if result is not None}
    assert failed == set(positions.values()), [
        (i, str(results[i])) for i in sorted(failed)
    ]
    for what, position in positions.items():
        error = results[position]
        assert isinstance(error, exception.PlugException)
        assert seen[position] is error
        assert error.kwargs["vif"] is bad[what]
    refused = results[positions["refused"]].kwargs["err"]
    assert isinstance(refused, exception.HostOperationRefused), refused
    assert "hostveth0" in str(refused)
    datapath = str(results[positions["datapath"]].kwargs["err"])
    assert "netdev" in datapath and "system" in datapath, datapath
    row = results[positions["row"]].kwargs["err"]
    assert isinstance(row, exception.HostOperationRefused), row
    assert FOREIGN_PORT in str(row)
    assert all(
        seen[i] is host_state.Outcome.DONE
        for i in range(len(batch))
        if i not in failed
    )

    # The 197 are plugged; nothing of the 3 bad ones is on the host.
    _assert_plugged(ovs, good)
    after = links()
    assert after["hostveth0"] == host["links"]["hostveth0"]
    assert "br-bad" not in after
    assert bad["datapath"].vif_name not in after
    assert ovsdb_rows.row(ovs, "Port", bad["datapath"].vif_name) is None
    assert after[FOREIGN_PORT] == host["links"][FOREIGN_PORT]
    foreign = ovsdb_rows.row(ovs, "Interface", FOREIGN_PORT)
    assert foreign is not None
    assert foreign["external_ids"] == {"iface-id": "someone-else"}

    # The same batch again: the good ones are unchanged, the bad ones
    # fail again, and the host does not change.
    before = {"links": after, "rows": rows(ovs)}
    results, seen = _outcomes(os_vif.plug_many, batch)
    assert {i for i, r in enumerate(results) if r is not None} == failed
    changed = [
        (batch[i].plugin, type(batch[i]).__name__, batch[i].vif_name)
        for i in range(len(batch))
        if i not in failed and seen[i] is not host_state.Outcome.UNCHANGED
    ]
    assert changed == []
    assert {"links": links(), "rows": rows(ovs)} == before

    # Unplug of the 197 leaves the host as it was before the batch.
    results, seen = _outcomes(os_vif.unplug_many, good)
    assert results == [None] * len(good), [r for r in results if r]
    assert set(seen) == {host_state.Outcome.DONE}
    assert links() == host["links"]
    assert rows(ovs) == host["rows"]

    # And again: nothing to unplug.
    results, seen = _outcomes(os_vif.unplug_many, good)
    assert results == [None] * len(good)
    assert set(seen) == {host_state.Outcome.UNCHANGED}
    assert links() == host["links"]
