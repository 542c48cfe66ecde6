"""The workload's end in a plan: what every plugin that makes one shares.

A plugin that supports a :class:`~os_vif.objects.workload.WorkloadInterface`
plugs the VIF as for a VM, except that where a hypervisor's tap would go
(an OVS port, a bridge port) it makes a veth pair: the host end under the
VIF's device name, the peer inside the workload's namespace
(:func:`veth_end`); the nested types get a sub-interface of the host's
parent link made directly in the namespace (:func:`nested_end`).  Either
carries the VIF's addressing (:func:`addressing`).

These plans go to the workload daemon (:data:`~os_vif.internal.
unprivileged.runner.WORKLOAD`), the only one allowed to enter a
namespace.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from os_vif.internal import kernel, validation
from os_vif.internal.unprivileged.plan import Plan
from os_vif.objects import subnet as subnet_objects
from os_vif.objects import vif as vif_objects
from os_vif.objects import workload as workload_objects
from os_vif.plugins import rules

__all__ = [
    "Addressing",
    "addressing",
    "veth_end",
    "nested_end",
    "removal",
    "replace_tap",
    "without_device",
    "netns_of",
]

_VIF = vif_objects.VIFBase
_T = TypeVar("_T")
_Workload = workload_objects.WorkloadInterface

#: What a plan's steps may do to the VIF's device name that a veth's host
#: end replaces: a hypervisor's tap, made or found.
_TAP_STEPS = (kernel.EnsureTap, kernel.SetLink, kernel.DeleteDevice)


@dataclasses.dataclass(frozen=True)
class Addressing:
    """The addresses and routes of a workload's end, from the VIF."""

    addresses: list[str]
    routes: list[list[str | None]]
    ipv6: bool


def _required(value: _T | None, name: str) -> _T:
    """``value`` of the workload's field ``name``; refused when unset."""
    if value is None:
        raise rules.invalid(
            "workload.%s" % name, None, "the workload names no %s" % name
        )
    return value


def netns_of(workload: _Workload) -> str:
    """``workload.netns``, checked (a name under /run/netns or a path)."""
    return validation.netns_reference(
        _required(rules.optional(lambda: workload.netns), "netns"),
        "workload.netns",
    )


def ifname_of(workload: _Workload) -> str:
    """``workload.ifname``, checked."""
    return validation.interface_name(
        _required(rules.optional(lambda: workload.ifname), "ifname"),
        "workload.ifname",
    )


def addressing(vif: _VIF, default: bool) -> Addressing:
    """Every fixed IP with its subnet's prefix, the subnets' routes, and a
    default route through each IP version's first gateway when the
    interface is the ``default`` one; IPv6 when a subnet is IPv6.

    A subnet without a gateway gives no default route.
    """
    addresses: list[str] = []
    routes: list[list[str | None]] = []
    gateways: dict[int, str] = {}
    versions = set()
    network = rules.optional(lambda: vif.network)
    subnets = None if network is None else rules.optional(
        lambda: network.subnets
    )
    for subnet in list(subnets or ()):
        cidr = rules.optional(lambda: subnet.cidr)  # noqa: B023 - called here
        if cidr is None:
            continue
        versions.add(cidr.version)
        addresses += _addresses(subnet, cidr.prefixlen)
        routes += _routes(subnet)
        gateway = rules.optional(lambda: subnet.gateway)  # noqa: B023
        if gateway is not None:
            gateways.setdefault(cidr.version, str(gateway))
    if default:
        for version, gateway in sorted(gateways.items()):
            routes.append(["0.0.0.0/0" if version == 4 else "::/0", gateway])
    return Addressing(addresses, routes, 6 in versions)


def _addresses(subnet: subnet_objects.Subnet, prefixlen: int) -> list[str]:
    """Each fixed IP of ``subnet`` with the subnet's prefix length."""
    found: list[str] = []
    for fixed in list(rules.optional(lambda: subnet.ips) or ()):
        address = rules.optional(lambda: fixed.address)  # noqa: B023
        if address is not None:
            found.append("%s/%d" % (address, prefixlen))
    return found


def _routes(subnet: subnet_objects.Subnet) -> list[list[str | None]]:
    """``[destination, next hop or None]`` of each route of ``subnet``."""
    found: list[list[str | None]] = []
    for route in list(rules.optional(lambda: subnet.routes) or ()):
        destination = rules.optional(lambda: route.cidr)  # noqa: B023
        hop = rules.optional(lambda: route.gateway)  # noqa: B023
        if destination is not None:
            found.append([str(destination), None if hop is None else str(hop)])
    return found


def _common(
    vif: _VIF, workload: _Workload, mtu: int | None
) -> dict[str, object]:
    default = rules.optional(lambda: workload.default)
    found = addressing(vif, True if default is None else bool(default))
    return {
        "netns": netns_of(workload),
        "name": ifname_of(workload),
        "mac": rules.vif_mac(vif),
        "mtu": mtu,
        "addresses": found.addresses,
        "routes": found.routes,
        "ipv6": found.ipv6 or None,
        "vif_id": rules.optional_vif_id(vif),
    }


def veth_end(
    vif: _VIF,
    workload: _Workload,
    *,
    host: str,
    master: str | None,
    mtu: int | None,
) -> kernel.EnsureWorkloadEnd:
    """The veth whose host end is ``host`` (on ``master``, a bridge, when
    given) and whose peer is the workload's interface."""
    return kernel.EnsureWorkloadEnd(
        kind="veth", host=host, master=master, **_common(vif, workload, mtu)
    )


def nested_end(
    vif: _VIF, workload: _Workload, mtu: int | None
) -> kernel.EnsureWorkloadEnd:
    """A nested VIF's sub-interface of ``workload.parent``: a macvlan for
    :class:`~os_vif.objects.vif.VIFMacvlanNested`, a VLAN device of
    ``vif.vlan_id`` for :class:`~os_vif.objects.vif.VIFVlanNested`."""
    parent = validation.interface_name(
        _required(rules.optional(lambda: workload.parent), "parent"),
        "workload.parent",
    )
    if isinstance(vif, vif_objects.VIFVlanNested):
        vlan = validation.vlan_id(
            rules.optional(lambda: vif.vlan_id), "vif.vlan_id"
        )
        return kernel.EnsureWorkloadEnd(
            kind="vlan",
            parent=parent,
            vlan=vlan,
            **_common(vif, workload, mtu),
        )
    return kernel.EnsureWorkloadEnd(
        kind="macvlan", parent=parent, **_common(vif, workload, mtu)
    )


def removal(
    vif: _VIF, workload: _Workload, host: str | None
) -> kernel.DeleteWorkloadEnd:
    """The step that removes the workload's end (and ``host``, the veth's
    host end)."""
    return kernel.DeleteWorkloadEnd(
        netns=netns_of(workload),
        name=ifname_of(workload),
        host=host,
        vif_id=rules.optional_vif_id(vif),
    )


def without_device(plan: Plan, name: str) -> Plan:
    """``plan`` without the steps on a hypervisor's tap named ``name``: a
    veth's host end takes its place."""
    plan.steps = [
        step
        for step in plan.steps
        if not (isinstance(step, _TAP_STEPS) and step.device == name)
    ]
    return plan


def replace_tap(
    plan: Plan, end: kernel.EnsureWorkloadEnd, host: str | None
) -> Plan:
    """``plan`` with ``end`` where a tap named ``host`` was: after the
    kernel steps that make the bridge it goes on."""
    if host is not None:
        without_device(plan, host)
    return plan.add(end)
