"""Workload namespaces and addressed VIFs for the workload's-end tests."""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import netaddr
import pytest

from os_vif.objects import fixed_ip, route, subnet
from os_vif.objects import workload as workload_objects


def addressed(
    vif: Any,
    *addresses: str,
    gateway: str | None = None,
    routes: tuple[tuple[str, str], ...] = (),
) -> Any:
    """``vif`` with one subnet per address (``10.9.0.2/24``)."""
    subnets = []
    for text in addresses:
        interface = netaddr.IPNetwork(text)
        fields: dict[str, Any] = {
            "cidr": interface.cidr,
            "ips": fixed_ip.FixedIPList(
                objects=[fixed_ip.FixedIP(address=interface.ip)]
            ),
            "routes": route.RouteList(
                objects=[
                    route.Route(
                        cidr=netaddr.IPNetwork(cidr),
                        gateway=netaddr.IPAddress(hop),
                    )
                    for cidr, hop in routes
                    if netaddr.IPNetwork(cidr).version == interface.version
                ]
            ),
        }
        if gateway is not None and (
            netaddr.IPAddress(gateway).version == interface.version
        ):
            fields["gateway"] = netaddr.IPAddress(gateway)
        subnets.append(subnet.Subnet(**fields))
    vif.network.subnets = subnet.SubnetList(objects=subnets)
    return vif


#: ping, from busybox-static (no iputils here).
BUSYBOX = "/bin/busybox"


def ping(namespace: str, address: str) -> subprocess.CompletedProcess:
    """One ping from ``namespace`` to ``address`` (IPv4 or IPv6)."""
    applet = "ping6" if ":" in address else "ping"
    return run_in(namespace, BUSYBOX, applet, "-c", "1", "-W", "5", address)


def run_in(namespace: str, *command: str) -> subprocess.CompletedProcess:
    """Run ``command`` in ``namespace`` (a test may; os_vif never does)."""
    return subprocess.run(
        ["ip", "netns", "exec", namespace, *command],
        capture_output=True,
        text=True,
        check=False,
    )


@contextlib.contextmanager
def workload_namespaces() -> Iterator[Callable[[], str]]:
    """Make workload namespaces on demand; delete them all on the way out."""
    made: list[str] = []

    def make() -> str:
        name = "osvif-wl-%s" % uuid.uuid4().hex[:10]
        subprocess.run(["ip", "netns", "add", name], check=True)
        made.append(name)
        return name

    try:
        yield make
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def workload_netns(netns: Any) -> Iterator[Callable[[], str]]:
    """Make workload namespaces on demand (deleted after the test).

    The test itself runs in the fresh ``netns`` (the host side, with the
    privsep daemons); these are its containers.
    """
    with workload_namespaces() as make:
        yield make


def workload(namespace: str, ifname: str = "eth0", **extra: Any) -> Any:
    """The workload's end ``ifname`` in ``namespace``."""
    return workload_objects.WorkloadInterface(
        netns=namespace, ifname=ifname, **extra
    )
