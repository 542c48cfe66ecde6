"""Nested VIFs (noop plugin): a sub-interface of the VM's port, made
directly in the workload's namespace.

macvlan on the real kernel; this kernel has no 8021q module, so the VLAN
device is tested in tests/unit/plugins/test_workload.py only.
"""

from __future__ import annotations

import json
import subprocess

import pytest

import os_vif
from os_vif import exception
from os_vif.objects import network
from os_vif.objects import vif as vif_objects
from os_vif.sandbox import vifs
from tests.functional.workload.conftest import (
    PARENT,
    addressed,
    macvlan_vif,
    ping,
    run_in,
    workload,
)


def nested_vif(n: int) -> vif_objects.VIFMacvlanNested:
    return macvlan_vif(n, family=0x3AC00000, kind=0x31)


def _links(namespace: str) -> list[dict]:
    out = run_in(namespace, "ip", "-j", "-d", "link", "show")
    return json.loads(out.stdout)


def test_two_macvlan_workloads_ping_each_other(parent, workload_netns):
    os_vif.initialize()
    first, second = workload_netns(), workload_netns()
    vif1, vif2 = nested_vif(0), nested_vif(1)
    end1 = workload(first, parent=parent)
    end2 = workload(second, parent=parent)
    os_vif.plug(vif1, vifs.INSTANCE, workload=end1)
    os_vif.plug(vif2, vifs.INSTANCE, workload=end2)

    eth0 = next(link for link in _links(first) if link["ifname"] == "eth0")
    assert eth0["linkinfo"]["info_kind"] == "macvlan"
    assert eth0["address"] == vif1.address and eth0["mtu"] == 1400
    assert eth0.get("ifalias") == "os-vif"
    answer = ping(first, "10.7.0.3")
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert os_vif.check(vif1, vifs.INSTANCE, workload=end1).ok

    os_vif.unplug(vif1, vifs.INSTANCE, workload=end1)
    assert [link["ifname"] for link in _links(first)] == ["lo"]
    assert not os_vif.check(vif1, vifs.INSTANCE, workload=end1).ok
    os_vif.unplug(vif1, vifs.INSTANCE, workload=end1)
    os_vif.unplug(vif2, vifs.INSTANCE, workload=end2)


def test_a_missing_parent_is_refused_before_any_change(netns, workload_netns):
    os_vif.initialize()
    namespace = workload_netns()
    with pytest.raises(exception.PlugException) as caught:
        os_vif.plug(
            nested_vif(0),
            vifs.INSTANCE,
            workload=workload(namespace, parent="nosuch0"),
        )
    assert "nosuch0" in str(caught.value.kwargs["err"])
    assert [link["ifname"] for link in _links(namespace)] == ["lo"]


def test_a_nested_workload_needs_its_parent(netns, workload_netns):
    os_vif.initialize()
    with pytest.raises(exception.InvalidArgument) as caught:
        os_vif.validate_plug(
            nested_vif(0), vifs.INSTANCE, workload=workload(workload_netns())
        )
    assert caught.value.kwargs["field"] == "workload.parent"


def _no_8021q() -> str | None:
    """Why VLAN devices cannot be made here, or None."""
    probe = subprocess.run(
        ["ip", "link", "add", "link", PARENT, "name", "vlprobe0", "type",
         "vlan", "id", "4000"],
        capture_output=True, text=True, check=False,
    )
    if probe.returncode:
        return (
            "this kernel cannot make VLAN devices (no 8021q module: %s); "
            "the nested VLAN plan is unit-tested in "
            "tests/unit/plugins/test_workload.py" % probe.stderr.strip()
        )
    subprocess.run(["ip", "link", "del", "vlprobe0"], check=False)
    return None


def test_a_vlan_workload_is_made_in_its_namespace(parent, workload_netns):
    reason = _no_8021q()
    if reason is not None:
        pytest.skip(reason)
    os_vif.initialize()
    namespace = workload_netns()
    vif = vif_objects.VIFVlanNested(
        id=vifs.vif_id(5, family=0x3AC00000),
        address=vifs.mac(5, kind=0x31),
        network=network.Network(id=vifs.NETWORK_ID, mtu=1400),
        plugin="noop",
        vif_name="eth5",
        vlan_id=105,
    )
    vif = addressed(vif, "10.7.5.2/24", gateway="10.7.5.1")
    end = workload(namespace, parent=parent)
    os_vif.plug(vif, vifs.INSTANCE, workload=end)
    eth0 = next(
        link for link in _links(namespace) if link["ifname"] == "eth0"
    )
    assert eth0["linkinfo"]["info_kind"] == "vlan"
    assert eth0["linkinfo"]["info_data"]["id"] == 105
    assert os_vif.check(vif, vifs.INSTANCE, workload=end).ok
    os_vif.unplug(vif, vifs.INSTANCE, workload=end)
    assert [link["ifname"] for link in _links(namespace)] == ["lo"]


def test_an_end_on_another_parent_is_reported_and_not_reused(
    parent, workload_netns
):
    """The parent of a sub-interface cannot be changed: an end whose lower
    link is another host link differs (check), and plug refuses it."""
    other = "vmport1"
    subprocess.run(
        ["ip", "link", "add", other, "type", "veth", "peer", "name",
         other + "p"],
        check=True,
    )
    subprocess.run(["ip", "link", "set", other, "up"], check=True)
    os_vif.initialize()
    namespace = workload_netns()
    vif = nested_vif(0)
    os_vif.plug(vif, vifs.INSTANCE, workload=workload(namespace, parent=other))
    made = next(link for link in _links(namespace) if link["ifname"] == "eth0")

    end = workload(namespace, parent=parent)
    report = os_vif.check(vif, vifs.INSTANCE, workload=end)
    assert [(p.what, p.expected) for p in report.problems] == [
        ("parent", parent)
    ]
    with pytest.raises(exception.PlugException) as caught:
        os_vif.plug(vif, vifs.INSTANCE, workload=end)
    err = caught.value.kwargs["err"]
    assert isinstance(err, exception.HostOperationFailed), err
    assert "parent" in str(err)
    # Left as it was: the same device, on the other parent.
    (still,) = [link for link in _links(namespace) if link["ifname"] == "eth0"]
    assert still["ifindex"] == made["ifindex"]
    assert os_vif.check(
        vif, vifs.INSTANCE, workload=workload(namespace, parent=other)
    ).ok
    os_vif.unplug(vif, vifs.INSTANCE, workload=end)
    assert [link["ifname"] for link in _links(namespace)] == ["lo"]
