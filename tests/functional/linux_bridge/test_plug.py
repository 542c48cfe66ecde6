"""The linux_bridge plugin on the real kernel, through the privsep daemon.

Every test runs in a fresh network namespace (the ``netns`` fixture) with
the privsep daemon started inside it; results are read back from the
kernel with netlink and /proc/sys, not from os_vif.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.nftables.main import NFTables

import os_vif
from os_vif import exception
from os_vif.internal import kernel as devices
from os_vif.internal.kernel import firewall
from os_vif.internal.privileged import apply as privileged_apply
from os_vif.internal.privileged import context as privsep
from os_vif.internal.privileged import executor
from os_vif.objects import instance_info
from os_vif.objects import vif as vif_objects
from os_vif.plugins.linux_bridge import plan as lb_plan
from os_vif.sandbox import firewall as sandbox_firewall
from os_vif.sandbox import netns as netns_fixture
from os_vif.sandbox import vifs
from tests.functional import hung_daemon

INSTANCE = instance_info.InstanceInfo(
    uuid="6a0b7c57-4f4c-4b1e-9b7e-37a2c1e2d0f1", name="vm-1", project_id="p"
)
BRIDGE = "br-test0"
TAP = "tap-test0"
UPLINK = "up-test0"


def make_vif(
    bridge: str = BRIDGE,
    tap: str = TAP,
    mtu: int | None = 1450,
    uplink: str | None = UPLINK,
    filtering: bool = False,
    vlan: int | None = None,
) -> vif_objects.VIFBridge:
    return vifs.bridge_vif(
        bridge=bridge,
        tap=tap,
        mtu=mtu,
        uplink=uplink,
        filtering=filtering,
        vlan=vlan,
        vid="0f6b8e2a-5d4c-4e3b-9a1f-2c3d4e5f6a7b",
        address="52:54:00:12:34:56",
    )


@pytest.fixture
def lb_config(conf: Any) -> Iterator[Any]:
    os_vif.initialize()
    conf.config(create_tap=True, group="os_vif_linux_bridge")
    yield conf


@pytest.fixture
def ipr(netns) -> Iterator[IPRoute]:
    with IPRoute() as sock:
        yield sock


@pytest.fixture
def uplink(ipr: IPRoute) -> str:
    """A veth standing for the host's physical uplink."""
    ipr.link("add", ifname=UPLINK, kind="veth", peer=UPLINK + "p")
    return UPLINK


@pytest.fixture
def host_firewall() -> None:
    """An iptables-nft style filter/FORWARD chain that drops by default."""
    for family in firewall.FAMILIES:
        sandbox_firewall.add_forward_chain(family).close()


def link(ipr: IPRoute, name: str):
    try:
        return ipr.link("get", ifname=name)[0]
    except NetlinkError:
        return None


def master_of(ipr: IPRoute, name: str) -> str | None:
    index = link(ipr, name).get("master")
    return ipr.link("get", index=index)[0].get("ifname") if index else None


def sysctl(name: str, family: str, key: str) -> str:
    with open("/proc/sys/net/%s/conf/%s/%s" % (family, name, key)) as f:
        return f.read().strip()


def snapshot(ipr: IPRoute) -> tuple:
    """Everything a plug could change, for before/after comparisons."""
    links = sorted(
        (
            item.get("ifname"),
            item.get("master"),
            item.get("mtu"),
            item["flags"] & 1,
        )
        for item in ipr.get_links()
    )
    rules = {
        family: sorted(
            str(r.get("NFTA_RULE_USERDATA"))
            for r in NFTables(nfgen_family=family).get_rules()
        )
        for family in firewall.FAMILIES
    }
    return links, rules


def test_plug_makes_bridge_uplink_and_tap(netns, lb_config, ipr, uplink):
    os_vif.plug(make_vif(), INSTANCE)

    bridge = link(ipr, BRIDGE)
    assert bridge.get(("linkinfo", "kind")) == "bridge"
    data = bridge.get(("linkinfo", "data"))
    assert data.get("IFLA_BR_STP_STATE") == 0
    assert data.get("IFLA_BR_FORWARD_DELAY") == 0
    assert bridge.get("mtu") == 1450
    assert bridge["flags"] & 1
    assert sysctl(BRIDGE, "ipv6", "disable_ipv6") == "1"

    tap = link(ipr, TAP)
    assert tap.get(("linkinfo", "kind")) == "tun"
    assert tap.get("mtu") == 1450
    assert tap.get("address") == "fe:54:00:12:34:56"
    assert tap["flags"] & 1
    assert master_of(ipr, TAP) == BRIDGE
    assert master_of(ipr, UPLINK) == BRIDGE
    assert link(ipr, UPLINK)["flags"] & 1


def test_plug_twice_unplug_twice(netns, lb_config, ipr, uplink):
    vif = make_vif()
    os_vif.plug(vif, INSTANCE)
    first = snapshot(ipr)
    indexes = (link(ipr, BRIDGE)["index"], link(ipr, TAP)["index"])
    os_vif.plug(vif, INSTANCE)
    assert snapshot(ipr) == first
    assert (link(ipr, BRIDGE)["index"], link(ipr, TAP)["index"]) == indexes

    os_vif.unplug(vif, INSTANCE)
    assert link(ipr, TAP) is None
    assert link(ipr, BRIDGE) is None
    assert link(ipr, UPLINK) is not None
    assert link(ipr, UPLINK).get("master") is None
    os_vif.unplug(vif, INSTANCE)
    assert netns.link_names() == sorted(["lo", UPLINK, UPLINK + "p"])


def test_bridge_stays_while_another_vif_uses_it(netns, lb_config, ipr):
    first, second = make_vif(uplink=None), make_vif(uplink=None, tap="tap-b")
    os_vif.plug(first, INSTANCE)
    os_vif.plug(second, INSTANCE)
    os_vif.unplug(first, INSTANCE)
    assert link(ipr, BRIDGE) is not None
    assert master_of(ipr, "tap-b") == BRIDGE
    os_vif.unplug(second, INSTANCE)
    assert link(ipr, BRIDGE) is None


def test_bridge_os_vif_did_not_make_is_kept(netns, lb_config, ipr):
    ipr.link("add", ifname=BRIDGE, kind="bridge")
    vif = make_vif(uplink=None, mtu=1400)
    os_vif.plug(vif, INSTANCE)
    assert link(ipr, BRIDGE).get("mtu") == 1400
    os_vif.unplug(vif, INSTANCE)
    assert link(ipr, TAP) is None
    assert link(ipr, BRIDGE) is not None


def test_mtu_from_config_and_ipv6_kept(netns, lb_config, ipr):
    lb_config.config(
        network_device_mtu=1380, use_ipv6=True, group="os_vif_linux_bridge"
    )
    os_vif.plug(make_vif(mtu=None, uplink=None), INSTANCE)
    assert link(ipr, BRIDGE).get("mtu") == 1380
    assert link(ipr, TAP).get("mtu") == 1380
    assert sysctl(BRIDGE, "ipv6", "disable_ipv6") == "0"


def test_without_create_tap_only_the_bridge_is_made(netns, ipr):
    os_vif.initialize()
    vif = make_vif(uplink=None)
    os_vif.plug(vif, INSTANCE)
    assert link(ipr, BRIDGE) is not None
    assert link(ipr, TAP) is None
    os_vif.unplug(vif, INSTANCE)
    assert link(ipr, BRIDGE) is None


def _kernel_has_vlan(ipr: IPRoute) -> bool:
    ipr.link("add", ifname="vprobe", kind="veth", peer="vprobep")
    try:
        ipr.link(
            "add",
            ifname="vprobe.1",
            kind="vlan",
            link=ipr.link_lookup(ifname="vprobe")[0],
            vlan_id=1,
        )
    except NetlinkError:
        return False
    finally:
        ipr.link("del", ifname="vprobe")
    return True


def test_vlan_network(netns, lb_config, ipr, uplink):
    if not _kernel_has_vlan(ipr):
        pytest.skip("this kernel has no 802.1Q support (CONFIG_VLAN_8021Q)")
    vif = make_vif(vlan=101)
    os_vif.plug(vif, INSTANCE)
    vlan = link(ipr, "vlan101")
    assert vlan.get(("linkinfo", "data")).get("IFLA_VLAN_ID") == 101
    assert master_of(ipr, "vlan101") == BRIDGE
    os_vif.unplug(vif, INSTANCE)
    assert link(ipr, "vlan101") is None
    assert link(ipr, BRIDGE) is None


def test_firewall_accepts_bridge_traffic(
    netns, lb_config, ipr, host_firewall
):
    vif = make_vif(uplink=None)
    os_vif.plug(vif, INSTANCE)
    assert firewall.bridge_rules(BRIDGE) == {
        socket.AF_INET: 2,
        socket.AF_INET6: 2,
    }
    os_vif.plug(vif, INSTANCE)
    assert firewall.bridge_rules(BRIDGE)[socket.AF_INET] == 2
    os_vif.unplug(vif, INSTANCE)
    assert firewall.bridge_rules(BRIDGE) == {
        socket.AF_INET: 0,
        socket.AF_INET6: 0,
    }


def test_vif_with_own_filtering_gets_no_rules(
    netns, lb_config, ipr, host_firewall
):
    os_vif.plug(make_vif(uplink=None, filtering=True), INSTANCE)
    assert firewall.bridge_rules(BRIDGE)[socket.AF_INET] == 0


def test_failed_plug_leaves_nothing(netns, lb_config, ipr, uplink):
    before = snapshot(ipr)
    # The tap's name is taken by a device that is not a tap: the last
    # step fails after the bridge, uplink and rules were made.
    ipr.link("add", ifname=TAP, kind="veth", peer="tap-peer")
    before = snapshot(ipr)
    with pytest.raises(exception.PlugException) as caught:
        os_vif.plug(make_vif(), INSTANCE)
    assert "kind veth" in str(caught.value)
    assert snapshot(ipr) == before
    assert link(ipr, BRIDGE) is None


def test_missing_uplink_fails_cleanly(netns, lb_config, ipr):
    before = snapshot(ipr)
    with pytest.raises(exception.PlugException) as caught:
        os_vif.plug(make_vif(uplink="no-such0"), INSTANCE)
    assert isinstance(caught.value.kwargs["err"], Exception)
    assert "no-such0" in str(caught.value)
    assert snapshot(ipr) == before


@pytest.mark.parametrize("fail_at", range(5))
def test_fault_at_each_step_is_undone(
    netns, lb_config, ipr, uplink, host_firewall, monkeypatch, fail_at
):
    """Inject a fault before each step (and after the last) of a plug.

    The plan runs in this process (root, same namespace) so that a fault
    can be injected; it is the same plan and executor the daemon runs.
    """
    assert os_vif._EXT_MANAGER is not None
    plugin = os_vif._EXT_MANAGER["linux_bridge"].obj
    steps = lb_plan.plug_plan(make_vif(), None, plugin.config).to_wire()
    assert len(steps) == 4  # bridge, uplink, firewall rules, tap
    before = snapshot(ipr)
    calls = {"n": 0}

    def faulty(real):
        def apply(op, ctx):
            if ctx.trusted:  # the rollback: no fault there
                return real(op, ctx)
            if calls["n"] == fail_at:
                raise OSError(5, "injected fault")
            calls["n"] += 1
            return real(op, ctx)

        return apply

    for name, real in list(privileged_apply.APPLY.items()):
        monkeypatch.setitem(privileged_apply.APPLY, name, faulty(real))
    # A last no-op step, to fail after every real step has run.
    steps.append(devices.SetLink(name="lo", up=True, role="uplink").to_wire())
    result = executor.execute({"id": uuid.uuid4().hex, "groups": [steps]})
    assert "error" in result[0]
    assert result[0]["error"][0] == "HostOperationFailed"
    assert snapshot(ipr) == before


def _daemon_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if (
            b"os_vif.internal.privileged.helper" in argv
            and b"os_vif.internal.privileged.context.vif_plug_linux_bridge"
            in argv
        ):
            pids.append(int(entry))
    return pids


def test_a_real_daemon_runs_inside_the_test_netns(netns, lb_config):
    os_vif.plug(make_vif(uplink=None), INSTANCE)
    context = privsep.vif_plug_linux_bridge
    assert context.client_mode and context.channel is not None
    pids = [pid for pid in _daemon_pids() if pid != os.getpid()]
    inodes = {os.stat("/proc/%d/ns/net" % pid).st_ino for pid in pids}
    assert netns.inode in inodes


def test_privsep_timeout_bounds_a_plug_on_a_hung_daemon(
    netns, lb_config, ipr
):
    lb_config.config(privsep_timeout=2, group="os_vif_linux_bridge")
    os_vif.plug(make_vif(uplink=None), INSTANCE)  # the daemon runs
    other = vifs.bridge_vif(1, bridge="br-test1", tap="tap-test1")
    before = snapshot(ipr)
    with hung_daemon.stopped(privsep.vif_plug_linux_bridge):
        error, took = hung_daemon.timed_failure(
            lambda: os_vif.plug(other, INSTANCE)
        )
    assert isinstance(error, exception.PlugException), error
    err = error.kwargs["err"]
    assert isinstance(err, exception.HostOperationFailed), err
    assert "within 2" in str(err)
    # The option's 2 seconds, not the default minute (plus the start of a
    # new daemon, which takes back what the stopped one may have done).
    assert 2 <= took < 2 + 5
    assert snapshot(ipr) == before
    # A new daemon serves the next plug.
    os_vif.plug(other, INSTANCE)
    assert master_of(ipr, "tap-test1") == "br-test1"


def test_daemon_refuses_bad_names_and_survives(netns, lb_config, ipr):
    entrypoint = privsep.linux_bridge_execute

    def refused(steps):
        # The raw entrypoint: what the daemon itself sends back.
        with pytest.raises(privsep.RemoteError) as caught:
            entrypoint({"id": uuid.uuid4().hex, "groups": [steps]})
        error = privsep.rebuild(caught.value)
        assert isinstance(error, exception.InvalidArgument)
        return error.kwargs["field"]

    for bad in ("a/b", "", "x" * 16, "..", "a b", 7):
        assert refused([["ensure_bridge", {"name": bad}]]) == (
            "ensure_bridge.name"
        )
    assert refused([["ensure_bridge", {"name": BRIDGE, "mtu": 10}]]) == (
        "ensure_bridge.mtu"
    )
    assert refused([["no_such_operation", {"name": BRIDGE}]]) == "operation"
    assert refused(
        [["set_sysctl", {"name": "lo", "family": "ipv4",
                         "key": "forwarding", "value": 1}]]
    ) == "set_sysctl.key"
    assert link(ipr, BRIDGE) is None
    result = entrypoint(
        {"id": uuid.uuid4().hex, "groups": [[["ensure_bridge",
                                               {"name": BRIDGE}]]]}
    )
    assert list(result[0]["changed"]) == [True]
    assert link(ipr, BRIDGE) is not None


@contextlib.contextmanager
def guest(ipr: IPRoute, index: int) -> Iterator[socket.socket]:
    """A "guest": a namespace on a bridge port, with a bound UDP socket."""
    name = "osvif-guest%d-%d" % (index, os.getpid())
    pyroute2_netns.create(name)
    try:
        port, inside = "gport%d" % index, "geth%d" % index
        ipr.link("add", ifname=port, kind="veth", peer=inside)
        ipr.link(
            "set",
            index=ipr.link_lookup(ifname=port)[0],
            master=ipr.link_lookup(ifname=BRIDGE)[0],
            state="up",
        )
        ipr.link("set", ifname=inside, net_ns_fd=name)
        with netns_fixture.entered_path(
            "/run/netns/" + name, restart_privsep=False
        ):
            with IPRoute() as gipr:
                dev = gipr.link_lookup(ifname=inside)[0]
                gipr.addr("add", index=dev, address="10.9.0.%d" % index,
                          prefixlen=24)
                gipr.link("set", index=dev, state="up")
            # A socket stays in the namespace it was made in.
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("10.9.0.%d" % index, 4789))
        sock.settimeout(1)
        try:
            yield sock
        finally:
            sock.close()
    finally:
        pyroute2_netns.remove(name)


def _delivered(sender: socket.socket, receiver: socket.socket) -> bool:
    sender.sendto(b"hello", ("10.9.0.2", 4789))
    try:
        return receiver.recv(16) == b"hello"
    except TimeoutError:
        return False


def test_guest_traffic_crosses_the_host_firewall(
    netns, lb_config, ipr, host_firewall
):
    with open("/proc/sys/net/bridge/bridge-nf-call-iptables") as f:
        if f.read().strip() != "1":
            pytest.skip("bridged traffic does not reach iptables here")
    # A VIF with its own filtering: the bridge is made, no rules.
    os_vif.plug(make_vif(uplink=None, filtering=True), INSTANCE)
    with guest(ipr, 1) as first, guest(ipr, 2) as second:
        assert not _delivered(first, second), "the firewall should drop"
        os_vif.plug(make_vif(uplink=None, filtering=False), INSTANCE)
        assert _delivered(first, second)
