"""os_vif.plug_many / unplug_many through the ovs plugin, for real.

The real privsep daemon, kernel and private Open vSwitch.  These tests
pin what a batch of the ovs plugin gives (each VIF on its own; the bad ones
fail alone and leave nothing), first written against PluginBase's default,
now run by the plugin's native plug_many (see also test_bulk_mixed).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from pyroute2 import IPRoute

import os_vif
from os_vif import exception, host_state
from os_vif.plugins.ovs import naming
from os_vif.sandbox import vifs
from os_vif.sandbox.ovs import OvsServer
from tests.functional.ovs import ovsdb_rows

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

INSTANCE = vifs.INSTANCE


def _links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


def _devices(vif: Any) -> tuple[set[str], str]:
    """The devices a plug of ``vif`` makes, and its OVS port."""
    if isinstance(vif, type(vifs.hybrid_vif())):
        qbr, qvb, qvo = naming.hybrid_names(vif.id)
        return {qbr, qvb, qvo}, qvo
    return {vif.vif_name}, vif.vif_name


@pytest.fixture
def loaded(ovs_plugin: Any) -> None:
    """os_vif's plugins loaded, the ovs one configured for the switch."""
    os_vif.initialize(reset=True)


def test_bad_vifs_fail_alone_and_leave_nothing(
    loaded: None, ovs: OvsServer
) -> None:
    good = [vifs.ovs_vif(n) for n in range(3)] + [
        vifs.hybrid_vif(n) for n in range(3, 5)
    ]
    # A name the plugin refuses, and a hybrid VIF whose qbr exists as a
    # veth of the host: the plug refuses it and undoes its own steps.
    bad_name = vifs.ovs_vif(5)
    bad_name.vif_name = "tap bad"
    taken = vifs.hybrid_vif(6)
    with IPRoute() as ipr:
        ipr.link(
            "add", ifname=taken.bridge_name, kind="veth", peer="hostpeer6"
        )
    pairs = [(vif, INSTANCE) for vif in good[:2]]
    pairs += [(bad_name, INSTANCE)]
    pairs += [(vif, INSTANCE) for vif in good[2:4]]
    pairs += [(taken, INSTANCE), (good[4], INSTANCE)]
    seen: dict[int, Any] = {}
    results = os_vif.plug_many(pairs, lambda i, r: seen.setdefault(i, r))

    failed = {i for i, r in enumerate(results) if r is not None}
    assert failed == {2, 5}, results
    for index in failed:
        assert isinstance(results[index], exception.PlugException)
        assert seen[index] is results[index]
    assert "vif_name" in str(results[2].kwargs["err"])
    links = _links()
    for vif in good:
        devices, port = _devices(vif)
        assert devices <= links, vif.id
        assert ovsdb_rows.port_bridge(ovs, port) == "br-int"
    # Nothing of the bad ones: no port, no device but the host's veth.
    _taken_devices, taken_port = _devices(taken)
    assert ovsdb_rows.row(ovs, "Port", taken_port) is None
    assert (_taken_devices - {taken.bridge_name}) & links == set()
    assert {taken.bridge_name, "hostpeer6"} <= links
    assert "tap bad" not in links

    # The same batch of good VIFs again changes nothing.
    before = ovsdb_rows.next_cfg(ovs)
    assert os_vif.plug_many([(v, INSTANCE) for v in good]) == [None] * 5
    assert ovsdb_rows.next_cfg(ovs) == before

    # Unplug of the batch leaves nothing of os_vif's.  (The VIF naming the
    # host's veth is left out: unplugging it deletes that veth until the
    # daemon enforces ownership, issue 11.)
    outcomes: list[Any] = []
    results = os_vif.unplug_many(
        [(v, INSTANCE) for v in good], lambda i, r: outcomes.append(r)
    )
    assert results == [None] * 5
    assert all(r is host_state.Outcome.DONE for r in outcomes)
    links = _links()
    for vif in good:
        devices, port = _devices(vif)
        assert not devices & links
        assert ovsdb_rows.row(ovs, "Port", port) is None
    assert {taken.bridge_name, "hostpeer6"} <= links


def test_check_and_gc_of_the_ovs_plugin_after_plug_many(
    loaded: None, ovs: OvsServer
) -> None:
    # The native check and gc: a batch-plugged VIF is ok, kept by gc when
    # in keep, collected when not.
    vif = vifs.ovs_vif(0)
    assert os_vif.plug_many([(vif, INSTANCE)]) == [None]
    report = os_vif.check(vif, INSTANCE)
    assert (report.supported, report.ok, report.plugin) == (True, True, "ovs")
    kept = os_vif.gc([vif])
    assert kept.ok and not [r for r in kept if r.plugin == "ovs"]
    assert vif.vif_name in _links()
    assert ovsdb_rows.port_bridge(ovs, vif.vif_name) == "br-int"
    collected = os_vif.gc([])
    assert collected.ok
    assert {r.what for r in collected if r.plugin == "ovs"} == {
        "device " + vif.vif_name,
        "port " + vif.vif_name,
    }
    assert vif.vif_name not in _links()
    assert ovsdb_rows.row(ovs, "Port", vif.vif_name) is None
    assert os_vif.unplug_many([(vif, INSTANCE)]) == [None]


def test_a_batch_unplug_refused_for_one_vif_leaves_that_vif_whole(
    loaded: None, ovs: OvsServer
) -> None:
    # A batch's ports and devices are removed at the same time; a VIF whose
    # port is found to be someone else's is refused before anything of it
    # changes, and its device stays with its port.
    batch = [vifs.ovs_vif(n) for n in range(3)] + [
        vifs.hybrid_vif(n) for n in range(3, 6)
    ]
    pairs = [(vif, INSTANCE) for vif in batch]
    assert os_vif.plug_many(pairs) == [None] * 6
    taken_devices, taken_port = _devices(batch[4])
    ovs.vsctl(
        "set", "Interface", taken_port,
        "external_ids:iface-id=another-vif-entirely",
    )
    results = os_vif.unplug_many(pairs)
    assert [r is None for r in results] == [True] * 4 + [False, True]
    assert isinstance(results[4], exception.UnplugException)
    assert "another-vif-entirely" in str(results[4])
    links = _links()
    assert taken_devices <= links
    assert ovsdb_rows.port_bridge(ovs, taken_port) == "br-int"
    for vif in batch[:4] + batch[5:]:
        devices, port = _devices(vif)
        assert not devices & links, vif.id
        assert ovsdb_rows.row(ovs, "Port", port) is None


def _done(results: list[Any]) -> bool:
    # os_vif.plug_many: None for each VIF done.
    return results == [None] * len(results)


def test_taps_are_up_after_an_unplug_and_plug_of_the_same_batch(
    loaded: None, ovs: OvsServer
) -> None:
    """A re-plug makes its taps again once ovs-vswitchd let go of them.

    ovs-vswitchd puts back, by name, the flags a device had when it became
    a port when it applies the port's removal: a tap made again before
    that would be set down.  Before the plug waited for it, about one
    round in three left most taps down.
    """
    batch = [(vifs.ovs_vif(n), INSTANCE) for n in range(10)]
    assert _done(os_vif.plug_many(batch))
    for _round in range(12):
        assert _done(os_vif.unplug_many(batch))
        assert _done(os_vif.plug_many(batch))
        # ovs-vswitchd applies at its own pace: a late restore would show
        # within a moment.
        time.sleep(0.3)
        down = [
            vif.vif_name
            for (vif, _), report in zip(
                batch, os_vif.check_many(batch), strict=True
            )
            if not report.ok
        ]
        assert down == []
    assert _done(os_vif.unplug_many(batch))
