"""What plugging or unplugging an offloaded VIF means, as a plan.

Discovery (:func:`.port.discover`) reads sysfs and netlink first; the plan
builders are pure functions of the VIF, its instance, the
``[os_vif_offload]`` options and what discovery found (the signature of
every in-tree plugin's plans).
"""

from __future__ import annotations

from os_vif.internal import kernel
from os_vif.internal.ovsdb import operations as ovs
from os_vif.internal.unprivileged.plan import Plan
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.plugins.offload import options, port

__all__ = ["plug_plan", "unplug_plan", "vanished_plan"]

_VIF = vif_objects.VIFBase
_Instance = instance_info_objects.InstanceInfo


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


def plug_plan(
    vif: _VIF,
    instance_info: _Instance,
    config: options.Options,
    found: port.Found,
) -> Plan:
    """Return the plan that plugs ``vif`` on what discovery found."""
    offloaded = port.resolve(vif, instance_info, config, found)
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


def unplug_plan(
    vif: _VIF,
    instance_info: _Instance,
    config: options.Options,
    found: port.Found,
) -> Plan | None:
    """Return the plan that detaches the representor and resets the VF.

    For a VF gone from sysfs: :func:`vanished_plan` (None: nothing can be
    found).
    """
    if found.vf is None:
        return vanished_plan(port.switch_port(vif, instance_info, config))
    plan = Plan()
    representor = found.representor
    if representor is not None:
        switch = port.switch_port(vif, instance_info, config)
        if switch.kind == options.SWITCH_OVS:
            ids = switch.external_ids
            plan.add(
                ovs.RemoveOvsPort(
                    name=representor.ifname,
                    iface_id=ids.get("iface-id"),
                    mac=ids.get("attached-mac"),
                )
            )
        # Release the representor only from the bridge it was attached to,
        # never from a master someone else gave it.
        plan.add(
            kernel.SetLink(
                name=representor.ifname,
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
