"""The linux_bridge plugin makes the workload's end: a veth on the bridge.

Real kernel: the test runs in a fresh namespace (the host side, where the
privsep daemons run) and makes its workloads' namespaces; what os_vif
made is read back with ``ip`` and netlink, and traffic is a real ping.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

import os_vif
from os_vif import exception
from os_vif.internal import linkstate
from os_vif.sandbox import vifs
from tests.functional.workload.conftest import (
    addressed,
    ping,
    run_in,
    workload,
)

BRIDGE = "br-wl0"


def bridge_vif(n: int, address: str, gateway: str | None = "10.9.0.1"):
    vif = vifs.bridge_vif(n, bridge=BRIDGE, mtu=1400)
    return addressed(vif, address, "fd09::%d/64" % (n + 2), gateway=gateway)


def _inside(namespace: str, what: str) -> list:
    out = run_in(namespace, "ip", "-j", *what.split())
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout or "[]")


@pytest.fixture
def lb():
    os_vif.initialize()


def test_two_workloads_on_one_bridge_ping_each_other(lb, workload_netns):
    first, second = workload_netns(), workload_netns()
    vif1 = bridge_vif(0, "10.9.0.2/24")
    vif2 = bridge_vif(1, "10.9.0.3/24")
    end1, end2 = workload(first), workload(second)
    os_vif.plug(vif1, vifs.INSTANCE, workload=end1)
    os_vif.plug(vif2, vifs.INSTANCE, workload=end2)

    # The host end, named as the VIF says, on the bridge, marked.
    host = linkstate.get_device(vif1.vif_name)
    assert host is not None and host.kind == "veth"
    assert host.master == BRIDGE and host.alias == linkstate.OS_VIF_ALIAS
    assert host.mtu == 1400 and host.up
    # Inside: name, MAC, MTU, addresses, routes.
    (link,) = _inside(first, "link show eth0")
    assert link["address"] == vif1.address
    assert link["mtu"] == 1400 and "UP" in link["flags"]
    (addr,) = _inside(first, "addr show eth0")
    found = {(a["local"], a["prefixlen"]) for a in addr["addr_info"]}
    assert {("10.9.0.2", 24), ("fd09::2", 64)} <= found
    routes = _inside(first, "route show default")
    assert routes[0]["gateway"] == "10.9.0.1"

    for address in ("10.9.0.3", "fd09::3"):
        answer = ping(first, address)
        assert answer.returncode == 0, answer.stdout + answer.stderr

    assert os_vif.check(vif1, vifs.INSTANCE, workload=end1).ok
    # A re-plug changes nothing; a missing address is found and repaired.
    os_vif.plug(vif1, vifs.INSTANCE, workload=end1)
    run_in(first, "ip", "addr", "del", "10.9.0.2/24", "dev", "eth0")
    report = os_vif.check(vif1, vifs.INSTANCE, workload=end1)
    assert not report.ok
    assert any(p.what == "address" for p in report.problems)
    os_vif.plug(vif1, vifs.INSTANCE, workload=end1)
    assert os_vif.check(vif1, vifs.INSTANCE, workload=end1).ok

    os_vif.unplug(vif1, vifs.INSTANCE, workload=end1)
    os_vif.unplug(vif2, vifs.INSTANCE, workload=end2)
    assert linkstate.read_link(vif1.vif_name) is None
    assert linkstate.read_link(BRIDGE) is None  # made by os_vif, unused
    assert _inside(first, "link show") == [
        link for link in _inside(first, "link show") if link["ifname"] == "lo"
    ]
    # Idempotent.
    os_vif.unplug(vif1, vifs.INSTANCE, workload=end1)


def test_a_subnet_without_gateway_and_not_default(lb, workload_netns):
    namespace = workload_netns()
    vif = bridge_vif(0, "10.9.0.2/24", gateway=None)
    end = workload(namespace, "net1", default=False)
    os_vif.plug(vif, vifs.INSTANCE, workload=end)
    assert _inside(namespace, "route show default") == []
    assert os_vif.check(vif, vifs.INSTANCE, workload=end).ok
    os_vif.unplug(vif, vifs.INSTANCE, workload=end)


def test_unplug_after_the_namespace_is_gone(lb, workload_netns):
    namespace = workload_netns()
    vif = bridge_vif(0, "10.9.0.2/24")
    end = workload(namespace)
    os_vif.plug(vif, vifs.INSTANCE, workload=end)
    subprocess.run(["ip", "netns", "del", namespace], check=True)
    # The kernel deletes both ends of the veth with the namespace (in its
    # own time: a namespace is cleaned up by a kernel worker), once no
    # socket keeps it: os_vif's sockets there were closed on the way out.
    deadline = time.monotonic() + 10
    while linkstate.read_link(vif.vif_name) is not None:
        assert time.monotonic() < deadline, "the namespace is kept alive"
        time.sleep(0.05)
    report = os_vif.check(vif, vifs.INSTANCE, workload=end)
    assert any(p.object.startswith("namespace") for p in report.problems)
    os_vif.unplug(vif, vifs.INSTANCE, workload=end)
    assert linkstate.read_link(BRIDGE) is None


def test_a_failed_plug_leaves_nothing(lb, workload_netns):
    namespace = workload_netns()
    # A route through a gateway on no subnet of the VIF: the kernel
    # refuses it after the veth, its addresses and the bridge are made.
    vif = bridge_vif(0, "10.9.0.2/24")
    vif = addressed(
        vif, "10.9.0.2/24", gateway="10.9.0.1",
        routes=(("192.168.7.0/24", "172.31.0.1"),),
    )
    end = workload(namespace)
    with pytest.raises(exception.PlugException):
        os_vif.plug(vif, vifs.INSTANCE, workload=end)
    assert linkstate.read_link(vif.vif_name) is None
    assert [link["ifname"] for link in _inside(namespace, "link show")] == [
        "lo"
    ]


def test_a_device_of_someone_else_inside_is_refused(lb, workload_netns):
    namespace = workload_netns()
    run_in(namespace, "ip", "link", "add", "eth0", "type", "veth",
           "peer", "name", "eth0p")
    vif = bridge_vif(0, "10.9.0.2/24")
    with pytest.raises(exception.PlugException) as caught:
        os_vif.plug(vif, vifs.INSTANCE, workload=workload(namespace))
    assert isinstance(
        caught.value.kwargs["err"], exception.HostOperationRefused
    )
    assert linkstate.read_link(vif.vif_name) is None
    assert {link["ifname"] for link in _inside(namespace, "link show")} == {
        "lo", "eth0", "eth0p"
    }


def test_gc_collects_workloads_not_kept_and_what_a_gone_one_left(
    lb, workload_netns
):
    kept_ns, stale_ns, gone_ns = (workload_netns() for _ in range(3))
    kept = bridge_vif(0, "10.9.0.2/24")
    stale = bridge_vif(1, "10.9.0.3/24")
    gone = addressed(
        vifs.bridge_vif(2, bridge="br-wl1", mtu=1400), "10.9.1.4/24"
    )
    pairs = ((kept, kept_ns), (stale, stale_ns), (gone, gone_ns))
    for vif, namespace in pairs:
        os_vif.plug(vif, vifs.INSTANCE, workload=workload(namespace))
    subprocess.run(["ip", "netns", "del", gone_ns], check=True)
    deadline = time.monotonic() + 10
    while linkstate.read_link(gone.vif_name) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    dry = os_vif.gc([kept], dry_run=True)
    assert linkstate.read_link(stale.vif_name) is not None
    report = os_vif.gc([kept])
    removed = {r.what for r in report if r.error is None}
    assert removed == {r.what for r in dry}
    assert "device %s" % stale.vif_name in removed
    assert "device br-wl1" in removed  # all that is left of the gone one
    assert linkstate.read_link(stale.vif_name) is None
    assert [link["ifname"] for link in _inside(stale_ns, "link show")] == [
        "lo"
    ]
    # Nothing of the kept one, nor its bridge, was touched.
    assert linkstate.get_device(kept.vif_name).master == BRIDGE
    assert os_vif.check(kept, vifs.INSTANCE, workload=workload(kept_ns)).ok


def test_ipv6_is_enabled_for_a_v6_subnet(lb, workload_netns):
    namespace = workload_netns()
    # New interfaces of this namespace start with IPv6 off.
    out = run_in(
        namespace, "sh", "-c",
        "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6",
    )
    assert out.returncode == 0, out.stderr
    vif = bridge_vif(0, "10.9.0.2/24")
    end = workload(namespace)
    os_vif.plug(vif, vifs.INSTANCE, workload=end)
    value = run_in(
        namespace, "cat", "/proc/sys/net/ipv6/conf/eth0/disable_ipv6"
    )
    assert value.stdout.strip() == "0"
    (addr,) = _inside(namespace, "addr show eth0")
    assert ("fd09::2", 64) in {
        (a["local"], a["prefixlen"]) for a in addr["addr_info"]
    }
    assert os_vif.check(vif, vifs.INSTANCE, workload=end).ok
    run_in(
        namespace, "sh", "-c",
        "echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6",
    )
    report = os_vif.check(vif, vifs.INSTANCE, workload=end)
    assert "ipv6" in {p.what for p in report.problems}
    os_vif.plug(vif, vifs.INSTANCE, workload=end)
    assert os_vif.check(vif, vifs.INSTANCE, workload=end).ok
