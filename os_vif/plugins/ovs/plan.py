"""What plugging or unplugging one VIF means, before anything is done.

:func:`plug_plan` and :func:`unplug_plan` turn a VIF, its instance and the
``[os_vif_ovs]`` options into plain values: kernel steps for the privsep
daemon (:mod:`os_vif.internal.host_ops`) and the bridges and ports wanted
in OVSDB (:mod:`os_vif.internal.ovsdb.model`).  Every value that reaches
the host is checked here first, so that bad input fails with an
:class:`os_vif.exception.InvalidArgument` naming the VIF's field before
any change.  Keeping plans as values is also what makes a bulk plug a
matter of concatenating them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from os_vif import exception
from os_vif.internal import dpdk_representor, host_ops, sysfs, validation
from os_vif.internal.ovsdb import model
from os_vif.objects import fields
from os_vif.objects import vif as vif_objects
from os_vif.plugins.ovs import naming

__all__ = [
    "PlugPlan",
    "UnplugPlan",
    "plug_plan",
    "unplug_plan",
    "merge_plug_plans",
]

#: Datapath types that mean "the kernel's datapath".
KERNEL_DATAPATHS = (None, "", "system")


@dataclasses.dataclass
class PlugPlan:
    """The changes of one plug, in order.

    ``kernel`` runs first, in one privileged call; ``created`` names the
    devices those steps may create, in the order to delete them should the
    OVSDB transaction fail; ``restore`` puts back pre-existing devices the
    kernel steps modified.  Then ``bridges`` and ``ports`` go to OVSDB in
    one transaction.
    """

    kernel: list[host_ops.Step] = dataclasses.field(default_factory=list)
    created: list[str] = dataclasses.field(default_factory=list)
    restore: list[host_ops.Step] = dataclasses.field(default_factory=list)
    bridges: list[model.Bridge] = dataclasses.field(default_factory=list)
    ports: list[model.Port] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class UnplugPlan:
    """The changes of one unplug: OVSDB removals, then kernel deletions."""

    removals: list[model.PortRemoval] = dataclasses.field(default_factory=list)
    kernel: list[host_ops.Step] = dataclasses.field(default_factory=list)


def _invalid(field: str, value: Any, reason: str) -> exception.InvalidArgument:
    return exception.InvalidArgument(field=field, value=value, reason=reason)


def _mtu(vif: Any, config: Any) -> int:
    network = vif.network if vif.obj_attr_is_set("network") else None
    if network is not None and network.obj_attr_is_set("mtu"):
        if network.mtu:
            return validation.mtu(network.mtu, "vif.network.mtu")
    return validation.mtu(config.network_device_mtu, "network_device_mtu")


def _integration_bridge(vif: Any) -> str:
    network = vif.network if vif.obj_attr_is_set("network") else None
    bridge = None
    if network is not None and network.obj_attr_is_set("bridge"):
        bridge = network.bridge
    if not bridge:
        raise _invalid(
            "vif.network.bridge", bridge, "the VIF's network names no bridge"
        )
    return validation.interface_name(bridge, "vif.network.bridge")


def _profile(vif: Any) -> Any:
    if not vif.obj_attr_is_set("port_profile") or vif.port_profile is None:
        raise _invalid(
            "vif.port_profile", None, "the ovs plugin needs a port profile"
        )
    profile = vif.port_profile
    wanted = (
        vif_objects.VIFPortProfileOpenVSwitch,
        vif_objects.VIFPortProfileOVSRepresentor,
    )
    if not isinstance(profile, wanted):
        raise _invalid(
            "vif.port_profile",
            type(profile).__name__,
            "the ovs plugin handles VIFPortProfileOpenVSwitch and "
            "VIFPortProfileOVSRepresentor",
        )
    return profile


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    return getattr(obj, name) if obj.obj_attr_is_set(name) else default


def vif_identity(vif: Any) -> tuple[str, str]:
    """Return the ``iface-id`` and ``attached-mac`` a plug writes."""
    interface_id = _attr(_profile(vif), "interface_id") or vif.id
    return (
        str(interface_id),
        validation.mac_address(vif.address, "vif.address"),
    )


def _external_ids(vif: Any, instance_info: Any) -> dict[str, str]:
    iface_id, mac = vif_identity(vif)
    return {
        "iface-id": iface_id,
        "iface-status": "active",
        "attached-mac": mac,
        "vm-uuid": str(instance_info.uuid),
    }


def _vif_port(
    vif: Any,
    instance_info: Any,
    config: Any,
    name: str,
    bridge: str,
    *,
    interface_type: str = "",
    options: dict[str, str] | None = None,
    with_mtu: bool = True,
) -> model.Port:
    """The port of a VIF as os-vif 5.x makes it (see the plugin docs).

    ``with_mtu=False`` is for patch ports, which have no MTU of their own.
    """
    profile = _profile(vif)
    datapath = _attr(profile, "datapath_type")
    isolate = config.isolate_vif and not naming.is_trunk_bridge(bridge)
    kernel_datapath = datapath in KERNEL_DATAPATHS
    return model.Port(
        name=name,
        bridge=bridge,
        interface_type=interface_type,
        external_ids=_external_ids(vif, instance_info),
        options=options or {},
        mtu_request=_mtu(vif, config) if with_mtu else None,
        tag=model.DEAD_VLAN if isolate else None,
        vlan_mode="trunk" if isolate else None,
        trunks=(model.DEAD_VLAN,) if isolate else (),
        qos_type=(
            config.default_qos_type
            if kernel_datapath and config.default_qos_type
            else None
        ),
    )


def _bridge(vif: Any, name: str) -> model.Bridge:
    datapath = _attr(_profile(vif), "datapath_type")
    return model.Bridge(name, datapath or None)


def _vif_name(vif: Any) -> str:
    return validation.interface_name(_attr(vif, "vif_name"), "vif.vif_name")


def _vif_id(vif: Any) -> str:
    vif_id = _attr(vif, "id")
    if vif_id is None:
        raise _invalid("vif.id", None, "the VIF has no id")
    return str(vif_id)


# -- plug --------------------------------------------------------------------


def _plug_ovs(vif: Any, instance_info: Any, config: Any) -> PlugPlan:
    profile = _profile(vif)
    name = _vif_name(vif)
    bridge = _integration_bridge(vif)
    mtu = _mtu(vif, config)
    plan = PlugPlan()
    if _attr(profile, "create_tap", False):
        plan.kernel.append(
            host_ops.ensure_tap(
                name,
                multiqueue=bool(_attr(profile, "multiqueue", False)),
                mtu=mtu,
                mac=validation.mac_address(vif.address, "vif.address"),
                up=True,
            )
        )
        plan.created.append(name)
    if not _attr(profile, "create_port", False):
        return plan
    if config.per_port_bridge:
        vif_id = _vif_id(vif)
        own = naming.per_port_bridge(vif_id)
        own_patch, int_patch = naming.per_port_patches(vif_id)
        plan.bridges += [_bridge(vif, bridge), _bridge(vif, own)]
        plan.ports += [
            model.Port(name=name, bridge=own, mtu_request=mtu),
            model.Port(
                name=own_patch,
                bridge=own,
                interface_type="patch",
                options={"peer": int_patch},
            ),
            _vif_port(
                vif,
                instance_info,
                config,
                int_patch,
                bridge,
                interface_type="patch",
                options={"peer": own_patch},
                with_mtu=False,
            ),
        ]
        return plan
    plan.bridges.append(_bridge(vif, bridge))
    plan.ports.append(_vif_port(vif, instance_info, config, name, bridge))
    return plan


def _plug_hybrid(vif: Any, instance_info: Any, config: Any) -> PlugPlan:
    qbr, qvb, qvo = hybrid_devices(vif)
    bridge = _integration_bridge(vif)
    mtu = _mtu(vif, config)
    return PlugPlan(
        kernel=[
            # IPv6 off and no ARP replies: the bridge is plumbing between
            # the guest's tap and Open vSwitch and must not answer itself.
            host_ops.ensure_bridge(qbr, mtu=mtu, up=True, disable_ipv6=True),
            host_ops.set_sysctl(qbr, "ipv4", "arp_ignore", 1),
            host_ops.ensure_veth(qvb, qvo, mtu=mtu, up=True, master=qbr),
        ],
        # Deleting qvb deletes its peer qvo too.
        created=[qvb, qbr],
        bridges=[_bridge(vif, bridge)],
        ports=[_vif_port(vif, instance_info, config, qvo, bridge)],
    )


def hybrid_devices(vif: Any) -> tuple[str, str, str]:
    """Return the ``qbr``, ``qvb``, ``qvo`` names of a hybrid VIF.

    The bridge is the VIF's ``bridge_name`` when set (nova sets it to the
    ``qbr`` name), else derived from the VIF id like the veth ends.
    """
    qbr, qvb, qvo = naming.hybrid_names(_vif_id(vif))
    bridge_name = _attr(vif, "bridge_name")
    if bridge_name:
        qbr = validation.interface_name(bridge_name, "vif.bridge_name")
    return qbr, qvb, qvo


def _virtual_function(
    vif: Any, discovery: sysfs.SwitchdevDiscovery
) -> sysfs.VirtualFunction:
    """Find the VF a representor profile names (raise if it is not there)."""
    profile = _profile(vif)
    address = _attr(profile, "representor_address")
    if address is None and vif.obj_attr_is_set("dev_address"):
        address = vif.dev_address
    if address is None:
        raise _invalid(
            "vif.port_profile.representor_address",
            None,
            "a representor port needs the VF's PCI address",
        )
    return discovery.virtual_function(address)


def _plug_vhostuser(
    vif: Any,
    instance_info: Any,
    config: Any,
    discovery: sysfs.SwitchdevDiscovery,
) -> PlugPlan:
    bridge = _integration_bridge(vif)
    profile = _profile(vif)
    if isinstance(profile, vif_objects.VIFPortProfileOVSRepresentor):
        # OVS-DPDK hardware offload: the VF's representor is a DPDK port.
        vf = _virtual_function(vif, discovery)
        port = _vif_port(
            vif,
            instance_info,
            config,
            dpdk_representor.port_name(_vif_id(vif)),
            bridge,
            interface_type=dpdk_representor.INTERFACE_TYPE,
            options={"dpdk-devargs": dpdk_representor.devargs(vf)},
        )
        return PlugPlan(bridges=[_bridge(vif, bridge)], ports=[port])
    mode = _attr(vif, "mode")
    path = _attr(vif, "path")
    if mode == fields.VIFVHostUserMode.SERVER:
        # QEMU is the server: Open vSwitch connects to its socket.
        if not path or not isinstance(path, str) or "\0" in path:
            raise _invalid(
                "vif.path", path, "a server-mode vhost-user VIF needs a path"
            )
        port = _vif_port(
            vif,
            instance_info,
            config,
            naming.vhostuser_port(_vif_id(vif)),
            bridge,
            interface_type="dpdkvhostuserclient",
            options={"vhost-server-path": path},
        )
    elif mode == fields.VIFVHostUserMode.CLIENT:
        # Open vSwitch is the server and makes the socket itself.
        port = _vif_port(
            vif,
            instance_info,
            config,
            naming.vhostuser_port(_vif_id(vif)),
            bridge,
            interface_type="dpdkvhostuser",
        )
    else:
        raise _invalid("vif.mode", mode, "must be 'client' or 'server'")
    return PlugPlan(bridges=[_bridge(vif, bridge)], ports=[port])


def _plug_host_device(
    vif: Any,
    instance_info: Any,
    config: Any,
    discovery: sysfs.SwitchdevDiscovery,
) -> PlugPlan:
    profile = _profile(vif)
    if not isinstance(profile, vif_objects.VIFPortProfileOVSRepresentor):
        raise _invalid(
            "vif.port_profile",
            type(profile).__name__,
            "a VIFHostDevice is plugged into Open vSwitch through its "
            "representor: use VIFPortProfileOVSRepresentor",
        )
    bridge = _integration_bridge(vif)
    vf = _virtual_function(vif, discovery)
    representor = discovery.vf_representor(vf).ifname
    mtu = _mtu(vif, config)
    plan = PlugPlan(
        kernel=[host_ops.set_link(representor, mtu=mtu, up=True)],
        bridges=[_bridge(vif, bridge)],
        ports=[_vif_port(vif, instance_info, config, representor, bridge)],
    )
    before = host_ops.get_device(representor)
    if before is not None:
        plan.restore.append(
            host_ops.set_link(representor, mtu=before.mtu, up=before.up)
        )
    return plan


def plug_plan(
    vif: Any,
    instance_info: Any,
    config: Any,
    discovery: sysfs.SwitchdevDiscovery,
) -> PlugPlan:
    """Return the plan that plugs ``vif`` (raise on bad input)."""
    if isinstance(vif, vif_objects.VIFBridge):
        return _plug_hybrid(vif, instance_info, config)
    if isinstance(vif, vif_objects.VIFOpenVSwitch):
        return _plug_ovs(vif, instance_info, config)
    if isinstance(vif, vif_objects.VIFVHostUser):
        return _plug_vhostuser(vif, instance_info, config, discovery)
    if isinstance(vif, vif_objects.VIFHostDevice):
        return _plug_host_device(vif, instance_info, config, discovery)
    raise _invalid(
        "vif", type(vif).__name__, "the ovs plugin cannot plug this VIF type"
    )


def merge_plug_plans(plans: Sequence[PlugPlan]) -> PlugPlan:
    """Merge the plans of several VIFs into one, for a bulk plug.

    The merged plan runs as one privileged call and one OVSDB transaction;
    a bridge wanted by several VIFs is listed once.
    """
    merged = PlugPlan()
    seen: set[model.Bridge] = set()
    for one in plans:
        merged.kernel += one.kernel
        merged.created += one.created
        merged.restore += one.restore
        merged.ports += one.ports
        for bridge in one.bridges:
            if bridge not in seen:
                seen.add(bridge)
                merged.bridges.append(bridge)
    return merged


# -- unplug ------------------------------------------------------------------


def unplug_plan(
    vif: Any,
    instance_info: Any,
    config: Any,
    discovery: sysfs.SwitchdevDiscovery,
) -> UnplugPlan:
    """Return the plan that unplugs ``vif`` (raise on bad input)."""
    if isinstance(vif, vif_objects.VIFBridge):
        qbr, qvb, qvo = hybrid_devices(vif)
        bridge = _integration_bridge(vif)
        return UnplugPlan(
            removals=[
                model.PortRemoval(
                    qvo, remove_bridge_if_unused=naming.is_trunk_bridge(bridge)
                )
            ],
            kernel=[host_ops.delete_device(qvb), host_ops.delete_device(qbr)],
        )
    plan = plug_plan(vif, instance_info, config, discovery)
    trunk = bool(plan.bridges) and naming.is_trunk_bridge(plan.bridges[0].name)
    result = UnplugPlan()
    integration = plan.bridges[0].name if plan.bridges else None
    for port in plan.ports:
        own_bridge = port.bridge != integration
        if own_bridge and port.interface_type == "patch":
            # Goes with the per-port bridge, removed with the VIF's port.
            continue
        result.removals.append(
            model.PortRemoval(
                port.name, remove_bridge_if_unused=trunk or own_bridge
            )
        )
    if isinstance(vif, vif_objects.VIFOpenVSwitch) and _attr(
        _profile(vif), "create_tap", False
    ):
        result.kernel.append(host_ops.delete_device(_vif_name(vif)))
    return result
