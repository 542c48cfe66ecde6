"""What plugging or unplugging an offloaded VIF means, as a plan.

Discovery (:func:`.port.describe_port`, :func:`discover_unplug`) reads
sysfs and netlink first; the plan builders are pure functions of what it
found and the ``[os_vif_offload]`` options.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from os_vif.internal import kernel, linkstate
from os_vif.internal.ovsdb import operations as ovs
from os_vif.internal.unprivileged import sysfs
from os_vif.internal.unprivileged.plan import Plan
from os_vif.plugins.offload import options, port

__all__ = ["Unplugging", "plug_plan", "unplug_plan", "vanished_plan"]


def _vf_step(offloaded: port.OffloadedPort) -> kernel.SetVf:
    settings = offloaded.settings
    return kernel.SetVf(
        name=offloaded.vf.pf_ifname,
        vf=offloaded.vf.vf_index,
        mac=settings.mac,
        vlan=settings.vlan,
        spoofchk=settings.spoofchk,
        trust=settings.trust,
        link_state=settings.link_state,
    )


def plug_plan(offloaded: port.OffloadedPort) -> Plan:
    """Return the plan that plugs the discovered port."""
    plan = Plan(label=offloaded.vif_id)
    # The VF is configured last: its settings are the ones a driver may
    # fail to report, and so the ones an undo may not restore.
    vf_step = _vf_step(offloaded)
    representor, switch = offloaded.representor, offloaded.switch
    if representor is None or switch is None:
        return plan.add(vf_step)
    if switch.kind == options.SWITCH_LINUX_BRIDGE:
        return plan.add(
            kernel.EnsureBridge(name=switch.bridge, role="bridge"),
            kernel.SetLink(
                name=representor.ifname,
                mtu=offloaded.mtu,
                up=True,
                master=switch.bridge,
                role="representor",
            ),
            vf_step,
        )
    return plan.add(
        kernel.SetLink(
            name=representor.ifname,
            mtu=offloaded.mtu,
            up=True,
            role="representor",
        ),
        vf_step,
        ovs.EnsureOvsBridge(
            name=switch.bridge, datapath_type=switch.datapath_type
        ),
        ovs.EnsureOvsPort(
            name=representor.ifname,
            bridge=switch.bridge,
            external_ids=dict(switch.external_ids),
        ),
    )


@dataclasses.dataclass(frozen=True)
class Unplugging:
    """What unplug discovery found: the VF, its representor, its master."""

    vf: sysfs.VirtualFunction
    representor: str | None
    representor_master: str | None
    pf_present: bool


def discover_unplug(
    vf: sysfs.VirtualFunction, discovery: sysfs.SwitchdevDiscovery
) -> Unplugging:
    """Read what an unplug needs to know about a VF still in sysfs."""
    try:
        representor: str | None = discovery.vf_representor(vf).ifname
    except Exception:
        # Legacy mode (no representors), or a representor that went while
        # its VF stayed: nothing was, or can be, found to detach.
        representor = None
    master = None
    if representor is not None:
        device = linkstate.get_device(representor)
        if device is None:
            representor = None
        else:
            master = device.master
    return Unplugging(
        vf, representor, master, linkstate.device_exists(vf.pf_ifname)
    )


def _identity(switch: port.SwitchPort) -> dict[str, Any]:
    return {
        "iface_id": switch.external_ids.get("iface-id"),
        "mac": switch.external_ids.get("attached-mac"),
    }


def unplug_plan(
    found: Unplugging, switch: port.SwitchPort | None, config: Any
) -> Plan:
    """Return the plan that detaches the representor and resets the VF."""
    plan = Plan()
    if found.representor is not None and switch is not None:
        if switch.kind == options.SWITCH_OVS:
            plan.add(
                ovs.RemoveOvsPort(name=found.representor, **_identity(switch))
            )
        # Release the representor only from the bridge it was attached to,
        # never from a master someone else gave it.
        plan.add(
            kernel.SetLink(
                name=found.representor,
                up=False,
                nomaster=found.representor_master == switch.bridge
                and switch.kind == options.SWITCH_LINUX_BRIDGE,
                role="representor",
            )
        )
        if switch.kind == options.SWITCH_LINUX_BRIDGE:
            plan.add(kernel.RemoveBridgeIfUnused(name=switch.bridge))
    if found.pf_present:
        plan.add(
            kernel.SetVf(
                name=found.vf.pf_ifname,
                vf=found.vf.vf_index,
                vlan=0,
                mac=port.ZERO_MAC if config.reset_vf_mac_on_unplug else None,
            )
        )
    return plan


def vanished_plan(switch: port.SwitchPort) -> Plan | None:
    """Remove the OVS ports of a VF that left sysfs, found by identity.

    None when nothing can find them: a Linux bridge (the representor went
    with the VF), or no MAC (the iface-id alone could match a port another
    plug owns).
    """
    ids = switch.external_ids
    if switch.kind != options.SWITCH_OVS or "attached-mac" not in ids:
        return None
    return Plan().add(
        ovs.RemoveOvsPortsOfVif(name=ids["iface-id"], mac=ids["attached-mac"])
    )
