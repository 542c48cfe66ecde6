"""The daemon's taps: the TUNSETIFF ioctl, EnsureTap."""

from __future__ import annotations

import fcntl
import os
import struct

from pyroute2.netlink.rtnl.ifinfmsg import tuntap as _tuntap

from os_vif.internal.kernel import tap
from os_vif.internal.linkstate import Link
from os_vif.internal.privileged import netlink
from os_vif.internal.privileged.apply import Context, applies
from os_vif.internal.privileged.link import ensure, set_link
from os_vif.internal.privileged.sysctl import disable_ipv6

__all__ = ["apply_ensure_tap"]

_IFF_TAP = 0x0002
_IFF_MULTI_QUEUE = 0x0100
_TUN_DEVICE = "/dev/net/tun"


def _tap_ioctl(name: str, multiqueue: bool) -> None:
    # The flags os-vif 5.x's taps carry (no IFF_NO_PI): the hypervisor
    # sets its own when it attaches, and a tap made by either release looks
    # the same to operators' tools until then.
    flags = _IFF_TAP | (_IFF_MULTI_QUEUE if multiqueue else 0)
    request = struct.pack("16sH", name.encode(), flags)
    fd = os.open(_TUN_DEVICE, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, _tuntap.TUNSETIFF, request)
        # Persistent: the device outlives this file descriptor, until a
        # hypervisor opens it or os_vif deletes it.
        fcntl.ioctl(fd, _tuntap.TUNSETPERSIST, 1)
    finally:
        os.close(fd)


@applies(tap.EnsureTap)
def apply_ensure_tap(op: tap.EnsureTap, ctx: Context) -> bool:
    """Create the tap if missing; set its attributes."""
    name, vif_id = op.device, op.get("vif_id")

    def settle(
        requests: netlink.LinkRequests, link: Link, alias: str | None
    ) -> bool:
        # Before the request that brings the tap up (see EnsureTap).
        ipv6 = op.get("disable_ipv6", False) and disable_ipv6(
            ctx, name, "owned", vif_id
        )
        wanted = op.wanted()
        return set_link(
            ctx, requests, link, role="owned", vif_id=vif_id, alias=alias,
            **wanted,
        ) or bool(ipv6)

    return ensure(
        ctx,
        name,
        "tun",
        lambda _requests: _tap_ioctl(name, op.get("multiqueue", False)),
        settle,
    )
