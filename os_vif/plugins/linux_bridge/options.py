"""Options of the ``linux_bridge`` plugin, group ``[os_vif_linux_bridge]``.

The names, types and defaults are those of os-vif's plugin, so existing
``nova.conf`` files keep working; ``create_tap`` is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from oslo_config import cfg

from os_vif.plugins import privileged

__all__ = ["OPTS", "Options"]


class Options(Protocol):
    """The ``[os_vif_linux_bridge]`` group, as the plugin reads it."""

    use_ipv6: bool
    iptables_drop_action: str
    forward_bridge_interface: Sequence[str]
    vlan_interface: str | None
    flat_interface: str | None
    network_device_mtu: int
    create_tap: bool
    privsep_timeout: int


#: Every option of the plugin.
OPTS: list[cfg.Opt] = [
    cfg.BoolOpt(
        "use_ipv6",
        default=False,
        help="Leave IPv6 on for the bridges this plugin plugs into. "
        "When false (the default) IPv6 is disabled on them, so the host "
        "gets no link-local address or autoconfigured route on a "
        "guest network.",
    ),
    cfg.StrOpt(
        "iptables_top_regex",
        default="",
        help="Kept for configuration compatibility with os-vif: it ordered "
        "nova's iptables rules before the matching rules.  The forwarding "
        "rules of this plugin always go first in the FORWARD chain, so "
        "the value is not used.",
    ),
    cfg.StrOpt(
        "iptables_bottom_regex",
        default="",
        help="Kept for configuration compatibility with os-vif: it ordered "
        "nova's iptables rules after the matching rules.  Not used, as "
        "for iptables_top_regex.",
    ),
    cfg.StrOpt(
        "iptables_drop_action",
        default="DROP",
        choices=["DROP", "REJECT"],
        help="What happens to traffic of a guest bridge that goes to an "
        "interface not listed in forward_bridge_interface: DROP "
        "(silently) or REJECT (with an ICMP port unreachable or a TCP "
        "reset).  Unused when forward_bridge_interface is 'all'.",
    ),
    cfg.MultiStrOpt(
        "forward_bridge_interface",
        default=["all"],
        help="Interfaces a guest bridge may forward traffic to, through the "
        "host's FORWARD chain, when the VIF has no traffic filtering of "
        "its own; 'all' allows any.",
    ),
    cfg.StrOpt(
        "vlan_interface",
        help="Interface the VLAN devices of VLAN networks are made on; "
        "defaults to the network's bridge_interface.",
    ),
    cfg.StrOpt(
        "flat_interface",
        help="Interface attached to the bridges of flat (untagged) "
        "networks; defaults to the network's bridge_interface.",
    ),
    cfg.IntOpt(
        "network_device_mtu",
        default=1500,
        min=68,
        max=65535,
        help="MTU of the bridge, VLAN device and tap when the network does "
        "not give one.",
    ),
    cfg.BoolOpt(
        "create_tap",
        default=False,
        help="Create the guest-facing tap (vif_name) on plug, attached to "
        "the bridge, and delete it on unplug: for hypervisors that expect "
        "a ready device and for containers.  When false (the default, as "
        "os-vif) the hypervisor creates the tap (libvirt does).",
    ),
    privileged.timeout_opt(),
]
