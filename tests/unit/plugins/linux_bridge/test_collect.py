"""What the linux_bridge plugin's GC collects, from a hand-made link table."""

from __future__ import annotations

from os_vif.plugins.linux_bridge import collect
from os_vif.sandbox import vifs
from tests.unit.plugins.link_tables import link as _link
from tests.unit.plugins.link_tables import table as _table


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
