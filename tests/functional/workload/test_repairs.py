"""A re-plug repairs an existing workload's end; when the plan fails later,
the repairs are taken back and the end is as it was before the re-plug.

Real kernel (linux_bridge plugin, test in a fresh namespace); the plan
fails on the kernel's refusal of a route through a gateway on no subnet of
the VIF, after the daemon changed the end's MTU, MAC and IPv6 and added
the address it was missing.
"""

from __future__ import annotations

import json
import uuid

import pytest

import os_vif
from os_vif import exception
from os_vif.internal import kernel, linkstate
from os_vif.internal.privileged import executor
from os_vif.plugins.linux_bridge import LinuxBridgePlugin
from os_vif.sandbox import vifs
from tests.functional.workload.conftest import addressed, run_in, workload

BRIDGE = "br-wl0"


def _vif(routes=()):
    vif = vifs.bridge_vif(0, bridge=BRIDGE, mtu=1400)
    return addressed(
        vif, "10.9.0.2/24", "fd09::2/64", gateway="10.9.0.1", routes=routes
    )


def _state(namespace: str) -> dict:
    """What the end inside is: its link, addresses, routes and IPv6."""
    def ip(*args: str) -> list:
        out = run_in(namespace, "ip", "-j", *args)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout or "[]")

    (link,) = ip("link", "show", "eth0")
    (addr,) = ip("addr", "show", "eth0")
    ipv6 = run_in(
        namespace, "cat", "/proc/sys/net/ipv6/conf/eth0/disable_ipv6"
    ).stdout.strip()
    return {
        "link": {key: link.get(key) for key in (
            "mtu", "address", "flags", "ifalias", "ifindex")},
        "addresses": sorted(
            (a["local"], a["prefixlen"]) for a in addr["addr_info"]
        ),
        "routes": sorted(json.dumps(r, sort_keys=True) for r in (
            ip("route", "show") + ip("-6", "route", "show"))),
        "ipv6": ipv6,
    }


@pytest.fixture
def damaged(netns, workload_netns):
    """A plugged end, then changed: wrong MTU and MAC, its IPv4 address
    gone (and the routes through it with it), IPv6 off."""
    os_vif.initialize()
    namespace = workload_netns()
    end = workload(namespace)
    os_vif.plug(_vif(), vifs.INSTANCE, workload=end)
    for command in (
        "ip link set eth0 mtu 1300",
        "ip link set eth0 address fa:16:3e:aa:bb:cc",
        "ip addr del 10.9.0.2/24 dev eth0",
        "sh -c 'echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6'",
    ):
        out = run_in(namespace, "sh", "-c", command)
        assert out.returncode == 0, out.stderr
    yield namespace, end
    os_vif.unplug(_vif(), vifs.INSTANCE, workload=end)


def test_a_failed_replug_takes_back_its_repairs(damaged):
    namespace, end = damaged
    before = _state(namespace)
    assert before["link"]["mtu"] == 1300 and before["ipv6"] == "1"
    problems = {p.what for p in os_vif.check(
        _vif(), vifs.INSTANCE, workload=end).problems}
    assert {"mtu", "mac", "address", "ipv6"} <= problems
    failing = _vif(routes=(("192.168.7.0/24", "172.31.0.1"),))
    with pytest.raises(exception.PlugException):
        os_vif.plug(failing, vifs.INSTANCE, workload=end)
    assert _state(namespace) == before
    # The host end was not made again: the same veth, on its bridge.
    host = linkstate.get_device(_vif().vif_name)
    assert host is not None and host.master == BRIDGE


def test_a_replug_that_succeeds_keeps_its_repairs(damaged):
    namespace, end = damaged
    os_vif.plug(_vif(), vifs.INSTANCE, workload=end)
    assert os_vif.check(_vif(), vifs.INSTANCE, workload=end).ok
    after = _state(namespace)
    assert after["link"]["mtu"] == 1400 and after["ipv6"] == "0"
    assert ("10.9.0.2", 24) in after["addresses"]


def test_the_callers_undo_plan_puts_the_end_back(damaged):
    """As the caller runs it when a later step of its plug fails (an OVSDB
    refusal): the undo the daemon answered, as a plan of its own, which
    the daemon does not trust as it trusts its own rollback."""
    namespace, end = damaged
    before = _state(namespace)
    plugin = LinuxBridgePlugin.load("linux_bridge")
    plan = plugin.workload_plug_plan(_vif(), vifs.INSTANCE, end)
    (ensure,) = [s for s in plan.kernel if s.NAME == "ensure_workload_end"]
    (answer,) = executor.execute(
        {"id": uuid.uuid4().hex, "groups": [[ensure.to_wire()]]}
    )
    assert answer["changed"] == [True], answer
    assert _state(namespace) != before
    assert [step[0] for step in answer["undo"]] == ["restore_workload_end"]
    (undone,) = executor.execute(
        {"id": uuid.uuid4().hex, "groups": [answer["undo"]]}
    )
    assert "error" not in undone, undone
    assert _state(namespace) == before
    restore = kernel.REGISTRY.from_wire(answer["undo"][0])
    assert restore.check() == []
