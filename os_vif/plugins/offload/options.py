"""Options of the ``offload`` plugin, group ``[os_vif_offload]``."""

from __future__ import annotations

from typing import Protocol

from oslo_config import cfg

from os_vif.internal.unprivileged import sysfs
from os_vif.plugins import privileged

__all__ = [
    "OPTS",
    "Options",
    "SWITCH_LINUX_BRIDGE",
    "SWITCH_OVS",
    "VF_VLAN_ALWAYS",
    "VF_VLAN_AUTO",
    "VF_VLAN_NEVER",
]


class Options(Protocol):
    """The ``[os_vif_offload]`` group, as the plugin reads it."""

    sysfs_root: str
    default_switch: str
    ovs_bridge: str
    ovsdb_connection: str
    ovsdb_timeout: int
    spoof_check: bool
    trust: bool
    vf_link_state: str
    vf_vlan: str
    reset_vf_mac_on_unplug: bool
    privsep_timeout: int


#: ``default_switch`` value: attach representors to Open vSwitch.
SWITCH_OVS = "openvswitch"
#: ``default_switch`` value: attach representors to a Linux bridge.
SWITCH_LINUX_BRIDGE = "linux_bridge"
#: ``vf_vlan`` value: VLAN on the VF only when it has no representor.
VF_VLAN_AUTO = "auto"
#: ``vf_vlan`` value: VLAN on the VF whatever the eswitch mode.
VF_VLAN_ALWAYS = "always"
#: ``vf_vlan`` value: never a VLAN on the VF.
VF_VLAN_NEVER = "never"

OPTS = [
    cfg.StrOpt(
        "sysfs_root",
        default=sysfs.DEFAULT_SYSFS_ROOT,
        help="Where sysfs is mounted.  VFs, their physical functions and "
        "their switchdev representors are discovered under this directory.",
    ),
    cfg.StrOpt(
        "default_switch",
        default=SWITCH_OVS,
        choices=[SWITCH_OVS, SWITCH_LINUX_BRIDGE],
        help="The switch a VF's representor is attached to when the VIF's "
        "port profile does not say (an Open vSwitch port profile always "
        "means Open vSwitch).",
    ),
    cfg.StrOpt(
        "ovs_bridge",
        default="br-int",
        help="The Open vSwitch bridge representors are attached to when the "
        "VIF's network names no bridge.",
    ),
    cfg.StrOpt(
        "ovsdb_connection",
        default="tcp:127.0.0.1:6640",
        help="The OVSDB server to attach representors through, e.g. "
        "unix:/run/openvswitch/db.sock or tcp:127.0.0.1:6640.",
    ),
    cfg.IntOpt(
        "ovsdb_timeout",
        default=120,
        min=1,
        help="Seconds to wait for an OVSDB transaction.",
    ),
    cfg.BoolOpt(
        "spoof_check",
        default=True,
        help="Turn the NIC's MAC spoof checking on for the VFs it plugs "
        "(ip link set <PF> vf <N> spoofchk on).  Turn it off only for "
        "guests that must send from other MAC addresses.",
    ),
    cfg.BoolOpt(
        "trust",
        default=False,
        help="Mark plugged VFs trusted (ip link set <PF> vf <N> trust on), "
        "which lets the guest change its MAC and enter promiscuous mode.",
    ),
    cfg.StrOpt(
        "vf_link_state",
        default="auto",
        choices=["auto", "enable", "disable"],
        help="Link state given to plugged VFs: auto follows the physical "
        "port, enable forces the link up, disable forces it down.",
    ),
    cfg.StrOpt(
        "vf_vlan",
        default=VF_VLAN_AUTO,
        choices=[VF_VLAN_AUTO, VF_VLAN_ALWAYS, VF_VLAN_NEVER],
        help="When to tag a plugged VF's traffic in the NIC with the "
        "network's VLAN (ip link set <PF> vf <N> vlan <V>).  auto: only for "
        "VFs without a representor (legacy mode), since NICs in switchdev "
        "mode refuse VF VLANs (mlx5 answers EOPNOTSUPP) and the switch the "
        "representor is on tags the traffic instead; always; never.",
    ),
    cfg.BoolOpt(
        "reset_vf_mac_on_unplug",
        default=True,
        help="Set an unplugged VF's MAC address to 00:00:00:00:00:00 so the "
        "next guest does not inherit it.",
    ),
    privileged.timeout_opt(),
]
