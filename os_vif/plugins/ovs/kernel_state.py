"""Tell, without privileges, whether kernel steps would change anything.

A re-plug of a plugged VIF must be cheap: reading the devices over netlink
(:mod:`os_vif.internal.linkstate`) and a few ``/proc/sys`` files costs a
fraction of a round trip to the privsep daemon.  :func:`satisfied`
answers "is every step of this plan already true?" for the steps the ovs
plugin uses; for any other step it answers no, so the plan runs (the
daemon's steps are idempotent anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from os_vif.internal import host_ops, linkstate

__all__ = ["satisfied"]


def _link_matches(
    device: host_ops.DeviceInfo | None, arguments: dict[str, Any]
) -> bool:
    if device is None:
        return False
    if "mtu" in arguments and device.mtu != arguments["mtu"]:
        return False
    if "mac" in arguments and (device.mac or "").lower() != arguments["mac"]:
        return False
    if "up" in arguments and device.up != arguments["up"]:
        return False
    return "master" not in arguments or device.master == arguments["master"]


def _kind(device: host_ops.DeviceInfo | None, kind: str) -> bool:
    return device is not None and device.kind == kind


def _bridge(arguments: dict[str, Any]) -> bool:
    device = linkstate.get_device(arguments["name"])
    if not _kind(device, "bridge") or not _link_matches(device, arguments):
        return False
    return not arguments.get("disable_ipv6") or (
        host_ops.read_sysctl(arguments["name"], "ipv6", "disable_ipv6") == 1
    )


def _tap(arguments: dict[str, Any]) -> bool:
    device = linkstate.get_device(arguments["name"])
    return _kind(device, "tun") and _link_matches(device, arguments)


def _veth(arguments: dict[str, Any]) -> bool:
    both = {k: v for k, v in arguments.items() if k in ("mtu", "up")}
    name, peer = (
        linkstate.get_device(arguments["name"]),
        linkstate.get_device(arguments["peer"]),
    )
    return (
        _kind(name, "veth")
        and _kind(peer, "veth")
        and _link_matches(name, dict(both, **arguments))
        and _link_matches(peer, both)
    )


def _set_link(arguments: dict[str, Any]) -> bool:
    if arguments.get("nomaster"):
        return False
    return _link_matches(linkstate.get_device(arguments["name"]), arguments)


def _sysctl(arguments: dict[str, Any]) -> bool:
    return (
        host_ops.read_sysctl(
            arguments["name"], arguments["family"], arguments["key"]
        )
        == arguments["value"]
    )


_CHECKS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "ensure_bridge": _bridge,
    "ensure_tap": _tap,
    "ensure_veth": _veth,
    "set_link": _set_link,
    "set_sysctl": _sysctl,
}


def satisfied(steps: Sequence[host_ops.Step]) -> bool:
    """Say whether every step of ``steps`` already holds on this host."""
    for step in steps:
        check = _CHECKS.get(step.operation)
        if check is None or not check(dict(step.arguments)):
            return False
    return True
