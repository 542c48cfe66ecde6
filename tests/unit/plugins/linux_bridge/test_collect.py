"""What the linux_bridge plugin's GC collects, from a hand-made link table."""

from __future__ import annotations

from os_vif.internal.unprivileged.linkstate import Link, LinkTable
from os_vif.plugins.linux_bridge import collect
from os_vif.sandbox import vifs


def _link(
    name: str,
    index: int,
    kind: str | None,
    *,
    marked: bool = True,
    master: int = 0,
) -> Link:
    return Link(
        name=name,
        index=index,
        kind=kind,
        mtu=1500,
        mac=None,
        up=True,
        master_index=master,
        alias="os-vif" if marked else None,
        vlan_id=None,
    )


def _table(*links: Link) -> LinkTable:
    return LinkTable({k.name: k for k in links}, {k.index: k for k in links})


def test_taps_and_empty_bridges_go_in_use_ones_stay() -> None:
    kept = vifs.bridge_vif(1, bridge="brq-keep", tap="tap-keep")
    table = _table(
        _link("brq-keep", 1, "bridge"),
        _link("tap-keep", 2, "tun", master=1),
        _link("brq-leak", 3, "bridge"),
        _link("tap-leak", 4, "tun", master=3),
        _link("vlan7", 5, "vlan", master=3),
        _link("brq-flat", 6, "bridge"),
        _link("eth1", 7, None, marked=False, master=6),
        _link("tap-ovs", 8, "tun"),  # on no bridge: the ovs plugin's
        _link("br-host", 9, "bridge", marked=False),
    )
    leaks = collect.find([kept], table)
    assert [r.what for leak in leaks for r in leak.removals] == [
        "device tap-leak",
        "device brq-leak",
        "device vlan7",
    ]
