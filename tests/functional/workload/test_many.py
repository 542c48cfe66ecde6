"""Many VIFs with their workloads' ends in one call (linux_bridge, noop).

os_vif.plug_many / unplug_many / check_many with ``(vif, instance_info,
workload)`` items, on the real kernel: the test runs in a fresh namespace
(the host side, with the privsep daemons) and makes its workloads'
namespaces; what os_vif made is read back with ``ip``, traffic is a real
ping.  The Open vSwitch side is tests/functional/ovs/test_workload_many.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import os_vif
from os_vif import exception, host_state
from os_vif.internal import linkstate
from os_vif.objects import vif as vif_objects
from os_vif.sandbox import vifs
from tests.functional.workload.conftest import (
    bridged_vif,
    host_links,
    link_names,
    macvlan_vif,
    ping,
    run_in,
    workload,
)

BRIDGE = "br-wlm0"
INSTANCE = vifs.INSTANCE


def bridge_vif(n: int, **extra: Any) -> vif_objects.VIFBridge:
    return bridged_vif(n, BRIDGE, **extra)


def nested_vif(n: int) -> vif_objects.VIFMacvlanNested:
    return macvlan_vif(n, family=0x3AD00000, kind=0x32)


def test_workloads_plugged_checked_and_unplugged_in_one_call(
    parent: str, workload_netns: Any
) -> None:
    os_vif.initialize()
    spaces = [workload_netns() for _ in range(4)]
    bridged = [bridge_vif(n) for n in range(3)]
    nested = nested_vif(3)
    plain = vifs.bridge_vif(4, bridge=BRIDGE, mtu=1400)  # a VM's: no end
    ends = [workload(space) for space in spaces[:3]]
    ends.append(workload(spaces[3], parent=parent))
    items: list[Any] = [
        (vif, INSTANCE, end) for vif, end in zip(bridged, ends, strict=False)
    ]
    items.insert(2, (plain, INSTANCE))
    items.append((nested, INSTANCE, ends[3]))
    seen: dict[int, Any] = {}

    results = os_vif.plug_many(items, lambda i, r: seen.setdefault(i, r))
    assert results == [None] * 5
    assert seen == dict.fromkeys(range(5), host_state.Outcome.DONE)
    for vif in bridged:
        host = linkstate.get_device(vif.vif_name)
        assert host is not None and host.kind == "veth"
        assert host.master == BRIDGE
    # The plain VIF got its bridge only (its tap is the hypervisor's).
    assert linkstate.read_link(plain.vif_name) is None
    for space in spaces:
        assert link_names(space) == ["eth0", "lo"]
    for address in ("10.9.0.3", "10.9.0.4"):
        answer = ping(spaces[0], address)
        assert answer.returncode == 0, answer.stdout + answer.stderr

    reports = os_vif.check_many(items)
    assert [r.vif_id for r in reports] == [item[0].id for item in items]
    assert all(r.ok for r in reports), [r.problems for r in reports]
    # One end differs: only its report says so, and says what.
    run_in(spaces[1], "ip", "addr", "del", "10.9.0.3/24", "dev", "eth0")
    reports = os_vif.check_many(items)
    assert [r.ok for r in reports] == [True, False, True, True, True]
    # (Its default route, through a gateway now unreachable, went too.)
    assert ("address", "10.9.0.3/24") in [
        (p.what, p.expected) for p in reports[1].problems
    ]
    # The plug of many repairs it; the others were plugged already.
    seen.clear()
    assert os_vif.plug_many(items, lambda i, r: seen.setdefault(i, r)) == [
        None
    ] * 5
    assert seen[1] is host_state.Outcome.DONE
    assert seen[0] is seen[3] is host_state.Outcome.UNCHANGED
    assert all(r.ok for r in os_vif.check_many(items))

    seen.clear()
    results = os_vif.unplug_many(items, lambda i, r: seen.setdefault(i, r))
    assert results == [None] * 5
    for space in spaces:
        assert link_names(space) == ["lo"]
    assert not {vif.vif_name for vif in bridged} & host_links()
    assert BRIDGE not in host_links()  # made by os_vif, unused now
    # Idempotent: nothing of any was left.
    seen.clear()
    assert os_vif.unplug_many(items, lambda i, r: seen.setdefault(i, r)) == [
        None
    ] * 5
    assert seen == dict.fromkeys(range(5), host_state.Outcome.UNCHANGED)


def test_a_bad_item_refuses_the_whole_call_before_any_change(
    workload_netns: Any,
) -> None:
    os_vif.initialize()
    spaces = [workload_netns() for _ in range(3)]
    good = [
        (bridge_vif(n), INSTANCE, workload(space))
        for n, space in enumerate(spaces)
    ]
    before = host_links()
    # A VIF whose plugin cannot make a workload's end, and a workload that
    # is not one.
    user = vifs.vhostuser_vif(0, plugin="noop")
    refusals: list[tuple[Any, str]] = [
        ((user, INSTANCE, workload(spaces[0])), "pairs[3].workload"),
        ((bridge_vif(5), INSTANCE, {"netns": spaces[0]}), "pairs[3].workload"),
        ((bridge_vif(5), None, workload(spaces[0])), "pairs[3].instance_info"),
    ]
    for call in (os_vif.plug_many, os_vif.unplug_many, os_vif.check_many):
        for bad, field in refusals:
            with pytest.raises(exception.InvalidArgument) as caught:
                call([*good, bad])
            assert caught.value.kwargs["field"] == field
    assert host_links() == before
    for space in spaces:
        assert link_names(space) == ["lo"]


def test_a_failing_item_fails_alone_and_leaves_nothing(
    workload_netns: Any,
) -> None:
    os_vif.initialize()
    spaces = [workload_netns() for _ in range(3)]
    # A route through a gateway on no subnet of the VIF: the kernel refuses
    # it after its veth and addresses are made.
    bad = bridge_vif(1, routes=(("192.168.7.0/24", "172.31.0.1"),))
    vifs_ = [bridge_vif(0), bad, bridge_vif(2)]
    items = [
        (vif, INSTANCE, workload(space))
        for vif, space in zip(vifs_, spaces, strict=True)
    ]
    results = os_vif.plug_many(items)
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], exception.PlugException)
    assert linkstate.read_link(bad.vif_name) is None
    assert link_names(spaces[1]) == ["lo"]
    answer = ping(spaces[0], "10.9.0.4")
    assert answer.returncode == 0, answer.stdout + answer.stderr
    reports = os_vif.check_many(items)
    assert [r.ok for r in reports] == [True, False, True]
    assert os_vif.unplug_many(items) == [None] * 3
    for space in spaces:
        assert link_names(space) == ["lo"]
