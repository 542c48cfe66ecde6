"""What plugging or unplugging one VIF on Open vSwitch means, as a plan.

Discovery is an explicit first step (:func:`discover`: the VF and
representor of a representor VIF, read from sysfs); then
:func:`plug_plan` and :func:`unplug_plan` are pure functions of the VIF,
its instance, the ``[os_vif_ovs]`` options and what discovery found.  The
plan holds kernel operations (for the privsep daemon) and OVSDB operations
(for one transaction), every value checked when the operations are made,
so bad input fails with an :class:`os_vif.exception.InvalidArgument`
naming the field before any change.  The plans of many VIFs run together
(:meth:`os_vif.internal.unprivileged.runner.HostRunner.run_many`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from os_vif import exception
from os_vif.internal import validation
from os_vif.internal.ovsdb import model
from os_vif.internal.ovsdb import operations as ovs
from os_vif.internal.privileged import devices
from os_vif.internal.unprivileged import dpdk_representor, sysfs
from os_vif.internal.unprivileged.plan import Plan
from os_vif.objects import fields
from os_vif.objects import vif as vif_objects
from os_vif.plugins import rules
from os_vif.plugins.ovs import naming

__all__ = [
    "Discovered",
    "discover",
    "plug_plan",
    "unplug_plan",
    "vif_identity",
    "hybrid_devices",
]

#: Datapath types that mean "the kernel's datapath".
KERNEL_DATAPATHS = (None, "", "system")

_field = rules.field


@dataclasses.dataclass(frozen=True)
class Discovered:
    """What discovery found on the host for one VIF (nothing for most)."""

    vf: sysfs.VirtualFunction | None = None
    #: The kernel representor's name (VIFHostDevice).
    representor: str | None = None


def _profile(vif: Any) -> Any:
    profile = _field(vif, "port_profile")
    if profile is None:
        raise rules.invalid(
            "vif.port_profile", None, "the ovs plugin needs a port profile"
        )
    wanted = (
        vif_objects.VIFPortProfileOpenVSwitch,
        vif_objects.VIFPortProfileOVSRepresentor,
    )
    if not isinstance(profile, wanted):
        raise rules.invalid(
            "vif.port_profile",
            type(profile).__name__,
            "the ovs plugin handles VIFPortProfileOpenVSwitch and "
            "VIFPortProfileOVSRepresentor",
        )
    return profile


def _is_representor(vif: Any) -> bool:
    return isinstance(
        _field(vif, "port_profile"), vif_objects.VIFPortProfileOVSRepresentor
    )


def discover(vif: Any, discovery: sysfs.SwitchdevDiscovery) -> Discovered:
    """Find the host devices a representor VIF names (reads sysfs).

    :raises DeviceDiscoveryFailed: the VF or its representor is not there.
    """
    if isinstance(vif, (vif_objects.VIFVHostUser, vif_objects.VIFHostDevice)):
        if not _is_representor(vif):
            return Discovered()
        address = _field(_profile(vif), "representor_address")
        if address is None:
            address = _field(vif, "dev_address")
        if address is None:
            raise rules.invalid(
                "vif.port_profile.representor_address",
                None,
                "a representor port needs the VF's PCI address",
            )
        vf = discovery.virtual_function(address)
        if isinstance(vif, vif_objects.VIFHostDevice):
            return Discovered(vf, discovery.vf_representor(vf).ifname)
        return Discovered(vf)
    return Discovered()


def _integration_bridge(vif: Any) -> str:
    bridge = _field(_field(vif, "network"), "bridge")
    if not bridge:
        raise rules.invalid(
            "vif.network.bridge", bridge, "the VIF's network names no bridge"
        )
    return validation.interface_name(bridge, "vif.network.bridge")


def vif_identity(vif: Any) -> tuple[str, str]:
    """Return the ``iface-id`` and ``attached-mac`` a plug writes."""
    interface_id = _field(_profile(vif), "interface_id") or vif.id
    return str(interface_id), rules.vif_mac(vif)


def _external_ids(vif: Any, instance_info: Any) -> dict[str, str]:
    iface_id, mac = vif_identity(vif)
    return {
        "iface-id": iface_id,
        "iface-status": "active",
        "attached-mac": mac,
        "vm-uuid": str(instance_info.uuid),
    }


def _datapath(vif: Any) -> str | None:
    return _field(_profile(vif), "datapath_type") or None


def _bridge(vif: Any, name: str) -> ovs.EnsureOvsBridge:
    return ovs.EnsureOvsBridge(name=name, datapath_type=_datapath(vif))


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
) -> ovs.EnsureOvsPort:
    """The port of a VIF as os-vif 5.x makes it (see the plugin docs).

    ``with_mtu=False`` is for patch ports, which have no MTU of their own.
    """
    isolate = config.isolate_vif and not naming.is_trunk_bridge(bridge)
    kernel_datapath = _datapath(vif) in KERNEL_DATAPATHS
    return ovs.EnsureOvsPort(
        name=name,
        bridge=bridge,
        interface_type=interface_type,
        external_ids=_external_ids(vif, instance_info),
        options=options or {},
        mtu_request=rules.mtu(vif, config) if with_mtu else None,
        tag=model.DEAD_VLAN if isolate else None,
        vlan_mode="trunk" if isolate else None,
        trunks=[model.DEAD_VLAN] if isolate else None,
        qos_type=(
            config.default_qos_type
            if kernel_datapath and config.default_qos_type
            else None
        ),
    )


def _vif_name(vif: Any) -> str:
    return validation.interface_name(_field(vif, "vif_name"), "vif.vif_name")


def hybrid_devices(vif: Any) -> tuple[str, str, str]:
    """Return the ``qbr``, ``qvb``, ``qvo`` names of a hybrid VIF.

    The bridge is the VIF's ``bridge_name`` when set (nova sets it to the
    ``qbr`` name), else derived from the VIF id like the veth ends.
    """
    qbr, qvb, qvo = naming.hybrid_names(rules.vif_id(vif))
    bridge_name = _field(vif, "bridge_name")
    if bridge_name:
        qbr = validation.interface_name(bridge_name, "vif.bridge_name")
    return qbr, qvb, qvo


# -- plug --------------------------------------------------------------------


def _plug_ovs(vif: Any, instance_info: Any, config: Any) -> Plan:
    profile = _profile(vif)
    vid = rules.vif_id(vif)
    plan = Plan(label=vid)
    name = _vif_name(vif)
    bridge = _integration_bridge(vif)
    mtu = rules.mtu(vif, config)
    if _field(profile, "create_tap", False):
        plan.add(
            devices.EnsureTap(
                name=name,
                multiqueue=bool(_field(profile, "multiqueue", False)),
                mtu=mtu,
                mac=rules.vif_mac(vif),
                up=True,
                vif_id=vid,
            )
        )
    if not _field(profile, "create_port", False):
        return plan
    if config.per_port_bridge:
        own = naming.per_port_bridge(vid)
        own_patch, int_patch = naming.per_port_patches(vid)
        return plan.add(
            _bridge(vif, bridge),
            _bridge(vif, own),
            ovs.EnsureOvsPort(
                name=name, bridge=own, mtu_request=mtu, per_port_bridge=own
            ),
            ovs.EnsureOvsPort(
                name=own_patch,
                bridge=own,
                interface_type="patch",
                options={"peer": int_patch},
                per_port_bridge=own,
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
        )
    return plan.add(
        _bridge(vif, bridge),
        _vif_port(vif, instance_info, config, name, bridge),
    )


def _plug_hybrid(vif: Any, instance_info: Any, config: Any) -> Plan:
    qbr, qvb, qvo = hybrid_devices(vif)
    vid = rules.vif_id(vif)
    bridge = _integration_bridge(vif)
    mtu = rules.mtu(vif, config)
    return Plan(label=vid).add(
        # IPv6 off and no ARP replies: the bridge is plumbing between the
        # guest's tap and Open vSwitch and must not answer itself.
        devices.EnsureBridge(
            name=qbr, mtu=mtu, up=True, disable_ipv6=True, vif_id=vid
        ),
        devices.SetSysctl(
            name=qbr, family="ipv4", key="arp_ignore", value=1, vif_id=vid
        ),
        devices.EnsureVeth(
            name=qvb, peer=qvo, mtu=mtu, up=True, master=qbr, vif_id=vid
        ),
        _bridge(vif, bridge),
        _vif_port(vif, instance_info, config, qvo, bridge),
    )


def _plug_vhostuser(
    vif: Any, instance_info: Any, config: Any, found: Discovered
) -> Plan:
    bridge = _integration_bridge(vif)
    vid = rules.vif_id(vif)
    plan = Plan(label=vid)
    if _is_representor(vif):
        # OVS-DPDK hardware offload: the VF's representor is a DPDK port.
        _profile(vif)
        if found.vf is None:
            raise exception.DeviceDiscoveryFailed(
                looked_for="VF", device=vid, reason="discovery was not run"
            )
        port = _vif_port(
            vif,
            instance_info,
            config,
            dpdk_representor.port_name(vid),
            bridge,
            interface_type=dpdk_representor.INTERFACE_TYPE,
            options={"dpdk-devargs": dpdk_representor.devargs(found.vf)},
        )
        return plan.add(_bridge(vif, bridge), port)
    _profile(vif)
    mode = _field(vif, "mode")
    path = _field(vif, "path")
    if mode == fields.VIFVHostUserMode.SERVER:
        # QEMU is the server: Open vSwitch connects to its socket.
        if not path or not isinstance(path, str) or "\0" in path:
            raise rules.invalid(
                "vif.path", path, "a server-mode vhost-user VIF needs a path"
            )
        port = _vif_port(
            vif,
            instance_info,
            config,
            naming.vhostuser_port(vid),
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
            naming.vhostuser_port(vid),
            bridge,
            interface_type="dpdkvhostuser",
        )
    else:
        raise rules.invalid("vif.mode", mode, "must be 'client' or 'server'")
    return plan.add(_bridge(vif, bridge), port)


def _plug_host_device(
    vif: Any, instance_info: Any, config: Any, found: Discovered
) -> Plan:
    if not _is_representor(vif):
        profile = _field(vif, "port_profile")
        raise rules.invalid(
            "vif.port_profile",
            type(profile).__name__,
            "a VIFHostDevice is plugged into Open vSwitch through its "
            "representor: use VIFPortProfileOVSRepresentor",
        )
    bridge = _integration_bridge(vif)
    vid = rules.vif_id(vif)
    if found.representor is None:
        raise exception.DeviceDiscoveryFailed(
            looked_for="representor",
            device=vid,
            reason="discovery was not run",
        )
    representor = found.representor
    return Plan(label=vid).add(
        devices.SetLink(
            name=representor,
            mtu=rules.mtu(vif, config),
            up=True,
            role="representor",
        ),
        _bridge(vif, bridge),
        _vif_port(vif, instance_info, config, representor, bridge),
    )


def plug_plan(
    vif: Any, instance_info: Any, config: Any, found: Discovered
) -> Plan:
    """Return the plan that plugs ``vif`` (raise on bad input)."""
    if isinstance(vif, vif_objects.VIFBridge):
        return _plug_hybrid(vif, instance_info, config)
    if isinstance(vif, vif_objects.VIFOpenVSwitch):
        return _plug_ovs(vif, instance_info, config)
    if isinstance(vif, vif_objects.VIFVHostUser):
        return _plug_vhostuser(vif, instance_info, config, found)
    if isinstance(vif, vif_objects.VIFHostDevice):
        return _plug_host_device(vif, instance_info, config, found)
    raise rules.invalid(
        "vif", type(vif).__name__, "the ovs plugin cannot plug this VIF type"
    )


# -- unplug ------------------------------------------------------------------


def _removal(
    vif: Any,
    name: str,
    *,
    remove_bridge: bool = False,
    per_port_bridge: str | None = None,
) -> ovs.RemoveOvsPort:
    iface_id, mac = vif_identity(vif)
    return ovs.RemoveOvsPort(
        name=name,
        iface_id=iface_id,
        mac=mac,
        remove_bridge_if_unused=remove_bridge,
        per_port_bridge=per_port_bridge,
    )


def vanished_plan(vif: Any) -> Plan:
    """The unplug of a VIF whose port cannot be named: by its identity.

    For a representor gone from sysfs, or a field plug now refuses: every
    port whose Interface carries the VIF's iface-id and attached-mac goes.
    """
    iface_id, mac = vif_identity(vif)
    return Plan(label=str(_field(vif, "id", "")), ovsdb_first=True).add(
        ovs.RemoveOvsPortsOfVif(name=iface_id, mac=mac)
    )


def _strict_unplug_plan(
    vif: Any, instance_info: Any, config: Any, found: Discovered
) -> Plan:
    vid = rules.vif_id(vif)
    plan = Plan(label=vid, ovsdb_first=True)
    bridge = _integration_bridge(vif)
    trunk = naming.is_trunk_bridge(bridge)
    if isinstance(vif, vif_objects.VIFBridge):
        qbr, qvb, qvo = hybrid_devices(vif)
        return plan.add(
            _removal(vif, qvo, remove_bridge=trunk),
            devices.DeleteDevice(name=qvb, kind="veth", vif_id=vid),
            devices.RemoveBridgeIfUnused(name=qbr, vif_id=vid),
        )
    if isinstance(vif, vif_objects.VIFOpenVSwitch):
        profile = _profile(vif)
        name = _vif_name(vif)
        if _field(profile, "create_port", False):
            if config.per_port_bridge:
                own = naming.per_port_bridge(vid)
                _own_patch, int_patch = naming.per_port_patches(vid)
                plan.add(
                    _removal(
                        vif, name, remove_bridge=True, per_port_bridge=own
                    ),
                    _removal(vif, int_patch, remove_bridge=trunk),
                )
            else:
                plan.add(_removal(vif, name, remove_bridge=trunk))
        if _field(profile, "create_tap", False):
            plan.add(devices.DeleteDevice(name=name, kind="tun", vif_id=vid))
        return plan
    wanted = plug_plan(vif, instance_info, config, found)
    for step in wanted.ovsdb:
        if isinstance(step, ovs.EnsureOvsPort):
            plan.add(_removal(vif, step.device, remove_bridge=trunk))
    return plan


def unplug_plan(
    vif: Any, instance_info: Any, config: Any, found: Discovered
) -> Plan:
    """Return the plan that unplugs ``vif``.

    Lenient where os-vif 5.x was: when a field plug would refuse (an MTU
    out of range, a 16-byte port name 5.x wrote) makes the strict plan
    impossible, the VIF's ports are found by its identity instead.
    """
    try:
        return _strict_unplug_plan(vif, instance_info, config, found)
    except exception.InvalidArgument as err:
        if not isinstance(vif, vif_objects.VIFBase) or not _field(
            vif, "address"
        ):
            raise
        try:
            plan = vanished_plan(vif)
        except exception.InvalidArgument:
            raise err from None
        rules.LOG.info(
            "Unplugging VIF %s by its identity: %s", _field(vif, "id"), err
        )
        name = _field(vif, "vif_name")
        profile = _field(vif, "port_profile")
        if isinstance(vif, vif_objects.VIFOpenVSwitch) and _field(
            profile, "create_tap", False
        ):
            tap = rules.lenient(
                lambda: devices.DeleteDevice(
                    name=name, kind="tun", vif_id=rules.vif_id(vif)
                ),
                "the tap",
            )
            if tap is not None:
                plan.add(tap)
        return plan
