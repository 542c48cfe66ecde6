"""os_vif.plug_many / unplug_many / check_many with workloads' ends, ovs.

A private ovsdb-server and ovs-vswitchd (netdev datapath), the real
workload daemon: VIFOpenVSwitch and hybrid VIFBridge workloads plugged in
one call ping each other; check_many reports per item; unplug_many leaves
no device and no port.
"""

from __future__ import annotations

from typing import Any

import pytest

import os_vif
from os_vif import exception, host_state
from os_vif.internal import linkstate
from os_vif.plugins.ovs import naming
from os_vif.sandbox import vifs
from os_vif.sandbox.ovs import OvsServer
from tests.functional.ovs import ovsdb_rows
from tests.functional.ovs.conftest import (
    hybrid_workload_vif,
    ovs_workload_vif,
)
from tests.functional.workload.conftest import (
    ping,
    run_in,
    workload,
)

pytestmark = [pytest.mark.functional, pytest.mark.ovs]

INSTANCE = vifs.INSTANCE


@pytest.fixture
def loaded(ovs_plugin: Any) -> None:
    """os_vif's plugins loaded, the ovs one configured for the switch."""
    os_vif.initialize(reset=True)




def _port(vif: Any) -> str:
    if isinstance(vif, type(vifs.hybrid_vif())):
        return naming.hybrid_names(vif.id)[2]
    return vif.vif_name


def _inside(namespace: str) -> list[str]:
    out = run_in(namespace, "ip", "-o", "link", "show").stdout.splitlines()
    # "eth0@if5": a veth's peer is named after the "@".
    return sorted(
        line.split(":")[1].strip().split("@")[0] for line in out
    )


def test_workloads_of_both_kinds_in_one_call(
    loaded: None, ovs: OvsServer, workload_netns: Any
) -> None:
    spaces = [workload_netns() for _ in range(4)]
    made = [
        ovs_workload_vif(0),
        hybrid_workload_vif(1),
        ovs_workload_vif(2),
        hybrid_workload_vif(3),
    ]
    items = [
        (vif, INSTANCE, workload(space))
        for vif, space in zip(made, spaces, strict=True)
    ]
    plain = vifs.ovs_vif(4)  # a VM's: its tap and port, no workload
    items.insert(2, (plain, INSTANCE))  # type: ignore[arg-type]
    seen: dict[int, Any] = {}

    results = os_vif.plug_many(items, lambda i, r: seen.setdefault(i, r))
    assert results == [None] * 5
    assert seen == dict.fromkeys(range(5), host_state.Outcome.DONE)
    for vif in made:
        host = linkstate.get_device(vif.vif_name)
        assert host is not None and host.kind == "veth"
        assert ovsdb_rows.port_bridge(ovs, _port(vif)) == "br-int"
    assert ovsdb_rows.port_bridge(ovs, plain.vif_name) == "br-int"
    for space in spaces:
        assert _inside(space) == ["eth0", "lo"]
    for address in ("10.8.0.3", "10.8.0.4", "10.8.0.5"):
        answer = ping(spaces[0], address)
        assert answer.returncode == 0, answer.stdout + answer.stderr

    reports = os_vif.check_many(items)
    assert all(r.ok for r in reports), [r.problems for r in reports]
    # One end inside differs: its report only.
    run_in(spaces[1], "ip", "link", "set", "eth0", "mtu", "1300")
    reports = os_vif.check_many(items)
    assert [r.ok for r in reports] == [True, False, True, True, True]
    assert [(p.what, p.expected, p.found) for p in reports[1].problems] == [
        ("mtu", 1450, 1300)
    ]
    # A plug of all repairs it and changes nothing else in OVSDB.
    before = ovsdb_rows.next_cfg(ovs)
    seen.clear()
    assert os_vif.plug_many(items, lambda i, r: seen.setdefault(i, r)) == [
        None
    ] * 5
    assert [seen[i] for i in range(5)] == [
        host_state.Outcome.UNCHANGED,
        host_state.Outcome.DONE,
        host_state.Outcome.UNCHANGED,
        host_state.Outcome.UNCHANGED,
        host_state.Outcome.UNCHANGED,
    ]
    assert ovsdb_rows.next_cfg(ovs) == before
    assert all(r.ok for r in os_vif.check_many(items))

    assert os_vif.unplug_many(items) == [None] * 5
    for vif in [*made, plain]:
        assert linkstate.read_link(vif.vif_name) is None
        assert ovsdb_rows.row(ovs, "Port", _port(vif)) is None
    for vif in made[1::2]:
        assert not set(naming.hybrid_names(vif.id)) & {
            link.name for link in linkstate.dump_links()
        }
    for space in spaces:
        assert _inside(space) == ["lo"]
    # Idempotent.
    assert os_vif.unplug_many(items) == [None] * 5


def test_a_bad_item_refuses_the_call_and_an_ovsdb_refusal_fails_alone(
    loaded: None, ovs: OvsServer, workload_netns: Any
) -> None:
    spaces = [workload_netns() for _ in range(3)]
    made = [ovs_workload_vif(0), ovs_workload_vif(1), hybrid_workload_vif(2)]
    items: list[Any] = [
        (vif, INSTANCE, workload(space))
        for vif, space in zip(made, spaces, strict=True)
    ]
    links = {link.name for link in linkstate.dump_links()}
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.plug_many([*items, (ovs_workload_vif(3), INSTANCE, "ns")])
    assert caught.value.kwargs["field"] == "pairs[3].workload"
    assert {link.name for link in linkstate.dump_links()} == links
    assert ovsdb_rows.row(ovs, "Port", made[0].vif_name) is None
    for space in spaces:
        assert _inside(space) == ["lo"]

    # An Interface under the second VIF's name belongs to another port:
    # OVSDB refuses its port after the daemon made its veth.
    ovsdb_rows.block_interface_name(ovs, made[1].vif_name)
    results = os_vif.plug_many(items)
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], exception.PlugException)
    assert linkstate.read_link(made[1].vif_name) is None
    assert _inside(spaces[1]) == ["lo"]
    answer = ping(spaces[0], "10.8.0.4")
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert os_vif.unplug_many([items[0], items[2]]) == [None, None]
