"""Plug/unplug latency of a VIFBridge, beside the raw pyroute2 floor.

Run as root: ``python benchmarks/bench_linux_bridge.py [-n ITERATIONS]``.

Everything happens in a throwaway network namespace that has a host
firewall chain (``ip``/``ip6 filter FORWARD``, as iptables-nft makes it), a
veth standing for the physical uplink, and the privsep daemon running
inside it.  Each iteration plugs a VIFBridge through ``os_vif.plug`` (with
``create_tap``: bridge, uplink, firewall rules, tap) and unplugs it through
``os_vif.unplug``; the floor makes the same kernel changes directly with
pyroute2 in this process, with no privsep, no validation and no lookups.
The two are measured interleaved, iteration by iteration, so that both
see the same machine load.  The ratio os_vif/floor is printed for plug and
unplug; the target is a plug within 2x of the floor.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import socket
import statistics
import struct
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from typing import Any

warnings.filterwarnings("ignore")

from oslo_config import cfg  # noqa: E402
from pyroute2 import IPRoute  # noqa: E402
from pyroute2.netlink.rtnl.ifinfmsg import tuntap  # noqa: E402
from pyroute2.nftables.expressions import genex, verdict  # noqa: E402
from pyroute2.nftables.main import NFTables  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import os_vif  # noqa: E402
from os_vif.internal.privileged import executor  # noqa: E402
from os_vif.objects import instance_info  # noqa: E402
from os_vif.objects import vif as vif_objects  # noqa: E402
from os_vif.plugins.linux_bridge import LinuxBridgePlugin  # noqa: E402
from os_vif.plugins.linux_bridge import plan as lb_plan  # noqa: E402
from os_vif.sandbox import firewall as sandbox_firewall  # noqa: E402
from os_vif.sandbox import netns as netns_fixture  # noqa: E402
from os_vif.sandbox import vifs  # noqa: E402

BRIDGE, TAP, UPLINK, MTU = "br-bench", "tap-bench", "up-bench", 1450
INSTANCE = instance_info.InstanceInfo(
    uuid="9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f", name="bench", project_id="p"
)


def make_vif() -> vif_objects.VIFBridge:
    return vifs.bridge_vif(
        bridge=BRIDGE,
        tap=TAP,
        mtu=MTU,
        uplink=UPLINK,
        vid="1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6",
        address="52:54:00:aa:bb:cc",
    )


def add_host_firewall() -> None:
    for family in (socket.AF_INET, socket.AF_INET6):
        sandbox_firewall.add_forward_chain(family).close()


class Floor:
    """The plug's kernel changes made directly, as fast as pyroute2 goes."""

    def __init__(self) -> None:
        self.ipr = IPRoute()
        self.nft = {f: NFTables(nfgen_family=f) for f in (2, 10)}
        self.uplink = self.ipr.link_lookup(ifname=UPLINK)[0]

    def _iface(self, key: int) -> list:
        name = BRIDGE.encode().ljust(16, b"\0")
        return [
            genex("meta", {"dreg": 1, "key": key}),
            genex(
                "cmp",
                {
                    "sreg": 1,
                    "op": 0,
                    "data": {"attrs": [("NFTA_DATA_VALUE", name)]},
                },
            ),
        ] + verdict(1)

    def plug(self) -> None:
        ipr = self.ipr
        ipr.link(
            "add",
            ifname=BRIDGE,
            kind="bridge",
            br_stp_state=0,
            br_forward_delay=0,
        )
        path = "/proc/sys/net/ipv6/conf/%s/disable_ipv6" % BRIDGE
        with open(path, "w") as f:
            f.write("1")
        bridge = ipr.link_lookup(ifname=BRIDGE)[0]
        ipr.link("set", index=bridge, ifalias="os-vif", mtu=MTU, state="up")
        ipr.link("set", index=self.uplink, master=bridge, state="up")
        for nft in self.nft.values():
            for key in (7, 6):
                nft.rule(
                    "insert",
                    table="filter",
                    chain="FORWARD",
                    expressions=(self._iface(key),),
                    userdata="x",
                )
        fd = os.open("/dev/net/tun", os.O_RDWR)
        try:
            fcntl.ioctl(
                fd, tuntap.TUNSETIFF, struct.pack("16sH", TAP.encode(), 0x1002)
            )
            fcntl.ioctl(fd, tuntap.TUNSETPERSIST, 1)
        finally:
            os.close(fd)
        tap = ipr.link_lookup(ifname=TAP)[0]
        ipr.link("set", index=tap, ifalias="os-vif")
        ipr.link("set", index=tap, mtu=MTU, master=bridge, state="up")

    def unplug(self) -> None:
        self.ipr.link("del", ifname=TAP)
        self.ipr.link("del", ifname=BRIDGE)
        for nft in self.nft.values():
            for rule in nft.get_rules():
                nft.rule(
                    "del",
                    table="filter",
                    chain="FORWARD",
                    handle=rule.get("NFTA_RULE_HANDLE"),
                )


Pair = tuple[Callable[[], object], Callable[[], object]]


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def measure(
    contenders: dict[str, Pair], n: int
) -> dict[str, tuple[list[float], list[float]]]:
    """Time plug and unplug of each contender, interleaved.

    Interleaving gives every contender the same share of whatever else
    the machine is doing, so that the ratio holds on a busy machine.
    """
    for plug, unplug in contenders.values():
        plug()  # warm up (the daemon starts on the first call)
        unplug()
    samples: dict[str, tuple[list[float], list[float]]] = {
        name: ([], []) for name in contenders
    }
    for _ in range(n):
        for name, (plug, unplug) in contenders.items():
            samples[name][0].append(_timed(plug))
            samples[name][1].append(_timed(unplug))
    return samples


def report(name: str, samples: list[float]) -> float:
    median = statistics.median(samples)
    print(
        "  %-15s median %7.2f ms  mean %7.2f ms  min %7.2f ms"
        % (name, median, statistics.fmean(samples), min(samples))
    )
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--iterations", type=int, default=50)
    args = parser.parse_args()
    reason = netns_fixture.missing_reason()
    if reason:
        print("cannot run: %s" % reason, file=sys.stderr)
        return 1
    cfg.CONF([], project="os_vif")
    os_vif.initialize()
    cfg.CONF.set_override("create_tap", True, group="os_vif_linux_bridge")
    with netns_fixture.fresh_netns("osvif-bench"):
        add_host_firewall()
        with IPRoute() as ipr:
            ipr.link("add", ifname=UPLINK, kind="veth", peer=UPLINK + "p")
        vif = make_vif()
        floor = Floor()
        manager = os_vif._EXT_MANAGER
        plugin = manager["linux_bridge"].obj if manager else None
        assert isinstance(plugin, LinuxBridgePlugin)
        plug_plan = lb_plan.plug_plan(vif, None, plugin.config).to_wire()
        unplug_plan = lb_plan.unplug_plan(vif, None, plugin.config).to_wire()

        def in_process(steps: list[Any]) -> Any:
            return executor.execute(
                {"id": uuid.uuid4().hex, "groups": [steps]}
            )

        samples = measure(
            {
                "os_vif": (
                    lambda: os_vif.plug(vif, INSTANCE),
                    lambda: os_vif.unplug(vif, INSTANCE),
                ),
                # The same plans, run by the same executor in this
                # process: what the daemon's work costs without the
                # privsep round trip (and its scheduling on a busy host).
                "plan in-process": (
                    lambda: in_process(plug_plan),
                    lambda: in_process(unplug_plan),
                ),
                "floor": (floor.plug, floor.unplug),
            },
            args.iterations,
        )
    ours, inproc, raw = (
        samples["os_vif"],
        samples["plan in-process"],
        samples["floor"],
    )
    print("VIFBridge, %d iterations (median of each):" % args.iterations)
    print("plug")
    plug_ours = report("os_vif.plug", ours[0])
    plug_inproc = report("plan in-process", inproc[0])
    plug_floor = report("pyroute2 floor", raw[0])
    print("unplug")
    unplug_ours = report("os_vif.unplug", ours[1])
    report("plan in-process", inproc[1])
    unplug_floor = report("pyroute2 floor", raw[1])
    print(
        "ratio os_vif/floor: plug %.2fx (target <= 2x), unplug %.2fx"
        % (plug_ours / plug_floor, unplug_ours / unplug_floor)
    )
    print(
        "privsep round trip in a plug: %.2f ms"
        % (plug_ours - plug_inproc)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
