"""What the ovs plugin's GC collects, from a hand-made link table and ports."""

from __future__ import annotations

from typing import Any

from os_vif.internal.ovsdb.inventory import VifPort
from os_vif.plugins.ovs import collect, naming
from os_vif.sandbox import vifs
from tests.unit.plugins.link_tables import link as _link
from tests.unit.plugins.link_tables import table as _table


def _port(name: str, iface_id: str) -> VifPort:
    return VifPort(
        name=name,
        bridge="br-int",
        iface_id=iface_id,
        mac="fa:16:3e:00:00:01",
        vm_uuid="vm",
        type="",
    )


def _whats(leaks: Any) -> list[str]:
    return [r.what for leak in leaks for r in leak.removals]


def test_a_leaked_hybrid_vif_goes_port_first_bridge_last() -> None:
    vif = vifs.hybrid_vif(1)
    qbr, qvb, qvo = naming.hybrid_names(vif.id)
    table = _table(
        _link(qbr, 10, "bridge", marked=False),
        _link(qvb, 11, "veth", marked=False, master=10),
        _link(qvo, 12, "veth", marked=False),
    )
    leaks = collect.find([], table, [_port(qvo, vif.id)])
    assert len(leaks) == 1
    assert _whats(leaks) == [
        "port " + qvo,
        "device " + qvb,
        "device " + qvo,
        "device " + qbr,
    ]
    # 5.x's devices are removed by the rule the daemon checks: the VIF id.
    assert {s.get("vif_id") for s in leaks[0].steps[1:]} == {vif.id[:11]}


def test_kept_vifs_and_others_devices_stay() -> None:
    kept, leaked = vifs.ovs_vif(2), vifs.ovs_vif(3)
    table = _table(
        _link(kept.vif_name, 1, "tun"),
        _link(leaked.vif_name, 2, "tun"),
        _link("eth0", 3, None, marked=False),
        _link("qvbdeadbeef-00", 4, "bridge", marked=False),
        _link("repr0", 5, None, marked=False),
        _link("tap-lb0", 6, "tun", master=7),
        _link("brq0", 7, "bridge"),
    )
    ports = [
        _port(kept.vif_name, kept.id),
        _port(leaked.vif_name, leaked.id),
        _port("repr0", "representor-vif"),
    ]
    assert sorted(_whats(collect.find([kept], table, ports))) == [
        "device " + leaked.vif_name,
        "port " + leaked.vif_name,
    ]


def test_a_qbr_with_something_else_on_it_stays() -> None:
    vif = vifs.hybrid_vif(4)
    qbr, qvb, _qvo = naming.hybrid_names(vif.id)
    table = _table(
        _link(qbr, 10, "bridge"),
        _link(qvb, 11, "veth", master=10),
        _link("vnet0", 12, "tun", marked=False, master=10),
    )
    assert _whats(collect.find([], table, [])) == ["device " + qvb]
