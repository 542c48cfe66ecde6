"""Workload namespaces and addressed VIFs for the workload's-end tests."""

from __future__ import annotations

import contextlib
import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import netaddr
import pytest

from os_vif.internal import linkstate
from os_vif.objects import fixed_ip, network, route, subnet
from os_vif.objects import vif as vif_objects
from os_vif.objects import workload as workload_objects
from os_vif.sandbox import vifs


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


def bridged_vif(
    n: int, bridge: str, *more: str, **extra: Any
) -> vif_objects.VIFBridge:
    """A linux_bridge VIF of ``bridge`` (MTU 1400) addressed
    ``10.9.0.<n + 2>/24`` via ``10.9.0.1`` (and ``more`` addresses;
    ``extra``: :func:`addressed`'s)."""
    vif = vifs.bridge_vif(n, bridge=bridge, mtu=1400)
    return addressed(
        vif, "10.9.0.%d/24" % (n + 2), *more, gateway="10.9.0.1", **extra
    )


def macvlan_vif(
    n: int, *, family: int, kind: int
) -> vif_objects.VIFMacvlanNested:
    """A nested VIF (noop plugin), a macvlan of the VM's port, addressed
    ``10.7.0.<n + 2>/24`` via ``10.7.0.1``; ``family`` and ``kind`` (of
    :func:`os_vif.sandbox.vifs.vif_id` and ``mac``) keep each module's
    VIFs apart."""
    vif = vif_objects.VIFMacvlanNested(
        id=vifs.vif_id(n, family=family),
        address=vifs.mac(n, kind=kind),
        network=network.Network(id=vifs.NETWORK_ID, mtu=1400),
        plugin="noop",
        vif_name="eth%d" % n,
    )
    return addressed(vif, "10.7.0.%d/24" % (n + 2), gateway="10.7.0.1")


def link_names(namespace: str) -> list[str]:
    """The names of the links in ``namespace``, sorted (read with ``ip``)."""
    out = run_in(namespace, "ip", "-j", "link", "show")
    assert out.returncode == 0, out.stderr
    return sorted(link["ifname"] for link in json.loads(out.stdout))


def host_links() -> set[str]:
    """The names of the links in the test's own namespace."""
    return {link.name for link in linkstate.dump_links()}


#: The VM's port the nested VIFs' ends hang from (:func:`parent`).
PARENT = "vmport0"


def vm_port(name: str) -> str:
    """Make ``name``, a VM's port: one end of an up veth pair (its peer
    ``<name>p``), in the calling thread's namespace."""
    subprocess.run(
        ["ip", "link", "add", name, "type", "veth", "peer", "name",
         name + "p"],
        check=True,
    )
    for end in (name, name + "p"):
        subprocess.run(["ip", "link", "set", end, "up"], check=True)
    return name


@pytest.fixture
def parent(netns: Any) -> str:
    """The VM's port of the nested VIFs (:data:`PARENT`), in the test's
    namespace."""
    return vm_port(PARENT)
