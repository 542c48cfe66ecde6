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
import logging

from os_vif import exception
from os_vif.internal import kernel, linkstate, validation
from os_vif.internal.ovsdb import model
from os_vif.internal.ovsdb import operations as ovs
from os_vif.internal.unprivileged import dpdk_representor, sysfs
from os_vif.internal.unprivileged.plan import Plan
from os_vif.objects import fields
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.plugins import rules
from os_vif.plugins.ovs import naming
from os_vif.plugins.ovs.options import Options

__all__ = [
    "Discovered",
    "discover",
    "plug_plan",
    "unplug_plan",
    "vif_identity",
    "hybrid_devices",
    "vanished_plan",
]

LOG = logging.getLogger(__name__)

_optional = rules.optional
_VIF = vif_objects.VIFBase
_Instance = instance_info_objects.InstanceInfo
_Profile = vif_objects.VIFPortProfileOpenVSwitch
_Representor = vif_objects.VIFPortProfileOVSRepresentor


@dataclasses.dataclass(frozen=True)
class Discovered:
    """What discovery found on the host for one VIF (nothing for most)."""

    vf: sysfs.VirtualFunction | None = None
    #: The kernel representor's name (VIFHostDevice).
    representor: str | None = None
    #: For the unplug of a VIFOpenVSwitch: a Linux bridge of the name the
    #: hybrid plug gives the VIF's ``qbr`` exists (plugged hybrid before
    #: a cold migration; unplugged as os-vif 5.x does, as hybrid).
    hybrid_bridge: bool = False
    #: For an unplug: why the VF or its representor could not be found
    #: (gone from sysfs); its ports are then removed by the VIF's identity.
    vanished: str | None = None


def _profile(vif: _VIF) -> _Profile:
    profile = _optional(lambda: vif.port_profile)
    if profile is None:
        raise rules.invalid(
            "vif.port_profile", None, "the ovs plugin needs a port profile"
        )
    # VIFPortProfileOVSRepresentor is one too.
    if not isinstance(profile, _Profile):
        raise rules.invalid(
            "vif.port_profile",
            type(profile).__name__,
            "the ovs plugin handles VIFPortProfileOpenVSwitch and "
            "VIFPortProfileOVSRepresentor",
        )
    return profile


def _is_representor(vif: _VIF) -> bool:
    return isinstance(_optional(lambda: vif.port_profile), _Representor)


def _vf_address(vif: vif_objects.VIFHostDevice) -> str:
    profile = _profile(vif)
    address = (
        _optional(lambda: profile.representor_address)
        if isinstance(profile, _Representor)
        else None
    )
    if address is None:
        address = _optional(lambda: vif.dev_address)
    if address is None:
        raise rules.invalid(
            "vif.dev_address",
            None,
            "a representor port needs the VF's PCI address",
        )
    return str(address)


def discover(
    vif: _VIF, discovery: sysfs.SwitchdevDiscovery, *, unplug: bool = False
) -> Discovered:
    """Find the host devices a VIF names (reads sysfs, and netlink).

    A ``VIFHostDevice``: its VF, and on the kernel's datapath the VF's
    representor netdev.  For an ``unplug`` of a ``VIFOpenVSwitch``: whether
    its hybrid ``qbr`` exists.

    :raises DeviceDiscoveryFailed: the VF or its representor is not there
        (for an ``unplug``: a result whose ``vanished`` says why).
    """
    if not unplug:
        return _discover(vif, discovery, unplug=False)
    try:
        return _discover(vif, discovery, unplug=True)
    except exception.DeviceDiscoveryFailed as err:
        # The VF or its representor is gone from sysfs (driver unloaded,
        # VFs re-created); its port may still be in OVSDB.
        LOG.info(
            "VIF %s: %s; removing its ports by iface-id",
            _optional(lambda: vif.id),
            err,
        )
        return Discovered(vanished=str(err))


def _discover(
    vif: _VIF, discovery: sysfs.SwitchdevDiscovery, *, unplug: bool
) -> Discovered:
    if isinstance(vif, vif_objects.VIFHostDevice):
        if not _is_representor(vif):
            return Discovered()
        vf = discovery.virtual_function(_vf_address(vif))
        if ovs.is_kernel_datapath(_datapath(vif)):
            return Discovered(vf, discovery.vf_representor(vf).ifname)
        return Discovered(vf)
    if unplug and isinstance(vif, vif_objects.VIFOpenVSwitch):
        vid = _optional_vif_id(vif)
        if vid is not None:
            qbr = naming.hybrid_names(vid)[0]
            device = linkstate.get_device(qbr)
            return Discovered(
                hybrid_bridge=device is not None and device.kind == "bridge"
            )
    return Discovered()


def _integration_bridge(vif: _VIF) -> str:
    network = _optional(lambda: vif.network)
    bridge = None if network is None else _optional(lambda: network.bridge)
    if not bridge:
        raise rules.invalid(
            "vif.network.bridge", bridge, "the VIF's network names no bridge"
        )
    return validation.interface_name(bridge, "vif.network.bridge")


def _optional_vif_id(vif: _VIF) -> str | None:
    """The VIF's id, None when it has none (neutron's smart-NIC VIFs).

    An id that is set must be valid: device names are made from it.
    """
    if _optional(lambda: vif.id) is None:
        return None
    return rules.vif_id(vif)


def vif_identity(vif: _VIF) -> tuple[str, str]:
    """Return the ``iface-id`` and ``attached-mac`` a plug writes."""
    _profile(vif)  # the ovs plugin refuses a VIF without its profile
    return rules.ovs_interface_id(vif), rules.vif_mac(vif)


def _external_ids(
    vif: _VIF, instance_info: _Instance, bridge: str
) -> dict[str, str]:
    iface_id, mac = vif_identity(vif)
    ids = rules.ovs_external_ids(iface_id, mac, instance_info.uuid)
    if naming.is_trunk_bridge(bridge):
        # Neutron's trunk handler reads it to clean the trunk up.
        ids["bridge_name"] = bridge
    return ids


def _datapath(vif: _VIF) -> str | None:
    profile = _profile(vif)
    return _optional(lambda: profile.datapath_type) or None


#: The datapath a VIF that names none implies, for a bridge being made:
#: vhost-user ports need the userspace one.
_IMPLIED_DATAPATH = "system"
_IMPLIED_VHOSTUSER_DATAPATH = "netdev"
#: Interface types whose MTU only Open vSwitch can set (``mtu_request``);
#: other ports' devices get theirs through netlink.
_MTU_REQUEST_TYPES = ("dpdkvhostuser", "dpdkvhostuserclient")


def _bridge(
    vif: _VIF, name: str, implied: str = _IMPLIED_DATAPATH
) -> ovs.EnsureOvsBridge:
    explicit = _datapath(vif)
    return ovs.EnsureOvsBridge(
        name=name,
        datapath_type=explicit,
        default_datapath_type=None if explicit else implied,
    )


def _qos(vif: _VIF, config: Options) -> str | None:
    # Only on the kernel's datapath (a VIF naming none is on it), where
    # Open vSwitch would otherwise leave the port's qdisc to the kernel.
    if ovs.is_kernel_datapath(_datapath(vif)) and config.default_qos_type:
        return str(config.default_qos_type)
    return None


def _isolation(isolate: bool) -> dict[str, object]:
    """The columns that put a port on the dead VLAN (``isolate_vif``)."""
    return {
        "tag": model.DEAD_VLAN if isolate else None,
        "vlan_mode": "trunk" if isolate else None,
        "trunks": [model.DEAD_VLAN] if isolate else None,
    }


def _vif_port(
    vif: _VIF,
    instance_info: _Instance,
    config: Options,
    name: str,
    bridge: str,
    *,
    interface_type: str = "",
    options: dict[str, str] | None = None,
) -> ovs.EnsureOvsPort:
    """The port of a VIF as os-vif 5.x makes it (see the plugin docs)."""
    isolate = config.isolate_vif and not naming.is_trunk_bridge(bridge)
    return ovs.EnsureOvsPort(
        name=name,
        bridge=bridge,
        interface_type=interface_type,
        external_ids=_external_ids(vif, instance_info, bridge),
        options=options or {},
        mtu_request=(
            rules.mtu(vif, config)
            if interface_type in _MTU_REQUEST_TYPES
            else None
        ),
        **_isolation(isolate),
        qos_type=_qos(vif, config),
    )


def _vif_name(vif: _VIF) -> str:
    return validation.interface_name(rules.vif_name(vif), "vif.vif_name")


def hybrid_devices(vif: _VIF) -> tuple[str, str, str]:
    """Return the ``qbr``, ``qvb``, ``qvo`` names of a hybrid VIF.

    The bridge is the VIF's ``bridge_name`` when set (nova sets it to the
    ``qbr`` name), else derived from the VIF id like the veth ends.
    """
    qbr, qvb, qvo = naming.hybrid_names(rules.vif_id(vif))
    bridge_name = rules.bridge_name(vif)
    if bridge_name:
        qbr = validation.interface_name(bridge_name, "vif.bridge_name")
    return qbr, qvb, qvo


# -- plug --------------------------------------------------------------------


def _device_mtu(name: str, mtu: int, vid: str | None) -> kernel.SetLink:
    # The VIF's device when it is there already: its MTU, as os-vif 5.x.
    # Someone else made it, so it is changed only as its role allows:
    # neutron's smart-NIC VIFs (no id) name an SR-IOV representor, the
    # others a tap the hypervisor made (a re-plug).
    return kernel.SetLink(
        name=name,
        mtu=mtu,
        role="representor" if vid is None else "hypervisor",
        optional=True,
    )


def _plug_per_port_bridge(
    vif: _VIF, instance_info: _Instance, config: Options, plan: Plan, name: str
) -> None:
    """A bridge of the VIF's own, patched to the network's (5.x's way).

    os-vif 5.x makes it whatever ``create_port`` says: the device's port
    on the VIF's bridge (isolated, with the QoS row), the patch ports
    with the VIF's identity on the network's side.
    """
    vid = rules.vif_id(vif)
    bridge = _integration_bridge(vif)
    own = naming.per_port_bridge(vid)
    own_patch, int_patch = naming.per_port_patches(vid)
    isolate = bool(config.isolate_vif)
    _iface_id, mac = vif_identity(vif)
    plan.add(
        _bridge(vif, own),
        ovs.EnsureOvsPort(
            name=name,
            bridge=own,
            **_isolation(isolate),
            qos_type=_qos(vif, config),
            per_port_bridge=own,
        ),
        _patch(own_patch, own, int_patch, per_port_bridge=own),
        _patch(
            int_patch,
            bridge,
            own_patch,
            # os-vif 5.x gives the patch port the VIF's id as iface-id.
            external_ids=rules.ovs_external_ids(vid, mac, instance_info.uuid),
            tag=(
                model.DEAD_VLAN
                if isolate and not naming.is_trunk_bridge(bridge)
                else None
            ),
        ),
    )


def _patch(
    name: str, bridge: str, peer: str, **columns: object
) -> ovs.EnsureOvsPort:
    """A patch port ``name`` on ``bridge`` to ``peer``."""
    return ovs.EnsureOvsPort(
        name=name,
        bridge=bridge,
        interface_type="patch",
        options={"peer": peer},
        **columns,
    )


def _plug_ovs(
    vif: vif_objects.VIFOpenVSwitch, instance_info: _Instance, config: Options
) -> Plan:
    profile = _profile(vif)
    vid = _optional_vif_id(vif)
    name = _vif_name(vif)
    bridge = _integration_bridge(vif)
    mtu = rules.mtu(vif, config)
    plan = Plan(label=vid or name)
    # The VIF's bridge first, whether or not a port is made: the
    # hypervisor attaches its tap to it (a trunk's tbr- bridge, a new
    # network's bridge).
    plan.add(_bridge(vif, bridge))
    create_tap = bool(_optional(lambda: profile.create_tap))
    if create_tap:
        plan.add(
            kernel.EnsureTap(
                name=name,
                multiqueue=bool(_optional(lambda: profile.multiqueue)),
                mtu=mtu,
                mac=rules.vif_mac(vif),
                up=True,
                disable_ipv6=True,
                vif_id=vid,
            )
        )
    if config.per_port_bridge:
        _plug_per_port_bridge(vif, instance_info, config, plan, name)
    elif _optional(lambda: profile.create_port):
        plan.add(_vif_port(vif, instance_info, config, name, bridge))
    else:
        return plan
    if not create_tap:
        plan.add(_device_mtu(name, mtu, vid))
    return plan


def _plug_hybrid(
    vif: vif_objects.VIFBridge, instance_info: _Instance, config: Options
) -> Plan:
    _profile(vif)
    _no_tap(vif)
    qbr, qvb, qvo = hybrid_devices(vif)
    vid = rules.vif_id(vif)
    bridge = _integration_bridge(vif)
    mtu = rules.mtu(vif, config)
    return Plan(label=vid).add(
        # IPv6 off and no ARP replies: the bridge is plumbing between the
        # guest's tap and Open vSwitch and must not answer itself.  No MAC
        # ageing and no multicast snooping: nothing is lost while the
        # guest moves (live migration), as os-vif 5.x made it.
        kernel.EnsureBridge(
            name=qbr,
            mtu=mtu,
            up=True,
            disable_ipv6=True,
            ageing=0,
            multicast_snooping=False,
            vif_id=vid,
        ),
        kernel.SetSysctl(
            name=qbr, family="ipv4", key="arp_ignore", value=1, vif_id=vid
        ),
        kernel.SetSysctl(
            name=qbr, family="ipv4", key="arp_announce", value=2, vif_id=vid
        ),
        kernel.EnsureVeth(
            name=qvb,
            peer=qvo,
            mtu=mtu,
            up=True,
            master=qbr,
            promisc=True,
            vif_id=vid,
        ),
        _bridge(vif, bridge),
        _vif_port(vif, instance_info, config, qvo, bridge),
    )


def workload_host_end(vif: _VIF, config: Options) -> tuple[str, str | None]:
    """The host end of a workload's veth: the VIF's device name, on the
    hybrid ``qbr`` for a :class:`~os_vif.objects.vif.VIFBridge` (an OVS
    port names it otherwise); see :mod:`os_vif.plugins.workload`."""
    if isinstance(vif, vif_objects.VIFBridge):
        return _vif_name(vif), hybrid_devices(vif)[0]
    return _vif_name(vif), None


def with_workload_port(
    plan: Plan, vif: _VIF, instance_info: _Instance, config: Options
) -> Plan:
    """``plan`` with the VIF's OVS port, if it has none: no hypervisor
    makes the port of a workload's veth, whatever ``create_port`` says."""
    if not isinstance(vif, vif_objects.VIFOpenVSwitch) or any(
        isinstance(step, ovs.EnsureOvsPort) for step in plan.ovsdb
    ):
        return plan
    name, bridge = _vif_name(vif), _integration_bridge(vif)
    return plan.add(_vif_port(vif, instance_info, config, name, bridge))


def _creates_tap(vif: _VIF) -> bool:
    profile = _optional(lambda: vif.port_profile)
    return isinstance(profile, _Profile) and bool(
        _optional(lambda: profile.create_tap)
    )


def _no_tap(vif: _VIF) -> None:
    if _creates_tap(vif):
        raise exception.TapCreationNotSupported(
            field="vif.port_profile.create_tap",
            value=True,
            reason="create_tap is only supported for VIFOpenVSwitch, not "
            "%s" % type(vif).__name__,
        )


def _plug_vhostuser(
    vif: vif_objects.VIFVHostUser,
    instance_info: _Instance,
    config: Options,
    found: Discovered,
) -> Plan:
    # A representor profile changes nothing here (os-vif 5.x): a DPDK
    # VF representor is a VIFHostDevice on a userspace datapath.
    _profile(vif)
    _no_tap(vif)
    bridge = _integration_bridge(vif)
    vid = rules.vif_id(vif)
    plan = Plan(label=vid)
    mode = _optional(lambda: vif.mode)
    path = _optional(lambda: vif.path)
    options: dict[str, str] = {}
    if mode == fields.VIFVHostUserMode.SERVER:
        # QEMU is the server: Open vSwitch connects to its socket.
        if not path or not isinstance(path, str) or "\0" in path:
            raise rules.invalid(
                "vif.path", path, "a server-mode vhost-user VIF needs a path"
            )
        interface_type = "dpdkvhostuserclient"
        options["vhost-server-path"] = path
    elif mode == fields.VIFVHostUserMode.CLIENT:
        # Open vSwitch is the server and makes the socket itself.
        interface_type = "dpdkvhostuser"
    else:
        raise rules.invalid("vif.mode", mode, "must be 'client' or 'server'")
    port = _vif_port(
        vif,
        instance_info,
        config,
        naming.vhostuser_port(vid),
        bridge,
        interface_type=interface_type,
        options=options,
    )
    return plan.add(
        _bridge(vif, bridge, implied=_IMPLIED_VHOSTUSER_DATAPATH), port
    )


def _plug_host_device(
    vif: vif_objects.VIFHostDevice,
    instance_info: _Instance,
    config: Options,
    found: Discovered,
) -> Plan:
    if not _is_representor(vif):
        profile = _optional(lambda: vif.port_profile)
        raise rules.invalid(
            "vif.port_profile",
            type(profile).__name__,
            "a VIFHostDevice is plugged into Open vSwitch through its "
            "representor: use VIFPortProfileOVSRepresentor",
        )
    _no_tap(vif)
    bridge = _integration_bridge(vif)
    vid = rules.vif_id(vif)
    if found.vf is None:
        raise exception.DeviceDiscoveryFailed(
            looked_for="VF", device=vid, reason="discovery was not run"
        )
    if not ovs.is_kernel_datapath(_datapath(vif)):
        # OVS-DPDK: the VF's representor is a DPDK port Open vSwitch
        # opens from the PF's PCI address and the VF's index.
        port = _vif_port(
            vif,
            instance_info,
            config,
            dpdk_representor.port_name(vid),
            bridge,
            interface_type=dpdk_representor.INTERFACE_TYPE,
            options={"dpdk-devargs": dpdk_representor.devargs(found.vf)},
        )
        return Plan(label=vid).add(_bridge(vif, bridge), port)
    if found.representor is None:
        raise exception.DeviceDiscoveryFailed(
            looked_for="representor",
            device=vid,
            reason="discovery was not run",
        )
    representor = found.representor
    return Plan(label=vid).add(
        kernel.SetLink(
            name=representor,
            mtu=rules.mtu(vif, config),
            up=True,
            role="representor",
        ),
        _bridge(vif, bridge),
        _vif_port(vif, instance_info, config, representor, bridge),
    )


def plug_plan(
    vif: _VIF, instance_info: _Instance, config: Options, found: Discovered
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
    vif: _VIF,
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


def vanished_plan(vif: _VIF) -> Plan:
    """The unplug of a VIF whose port cannot be named: by its identity.

    For a representor gone from sysfs, or a field plug now refuses: every
    port whose Interface carries the VIF's iface-id and attached-mac goes.
    """
    iface_id, mac = vif_identity(vif)
    return Plan(label=str(_optional(lambda: vif.id) or "")).add(
        ovs.RemoveOvsPortsOfVif(name=iface_id, mac=mac)
    )


def _hybrid_unplug(
    vif: _VIF, plan: Plan, names: tuple[str, str, str], trunk: bool
) -> None:
    qbr, qvb, qvo = names
    vid = rules.vif_id(vif)
    # The VIF's own tap may still be on the qbr (libvirt detaches it
    # next): deleting the bridge detaches it, as os-vif 5.x did.  Every
    # other device on it keeps the bridge.
    tap = rules.lenient(lambda: _vif_name(vif), "the tap on the qbr")
    plan.add(
        _removal(vif, qvo, remove_bridge=trunk),
        kernel.DeleteDevice(name=qvb, kind="veth", vif_id=vid),
        kernel.RemoveBridgeIfUnused(
            name=qbr, uplinks=[tap] if tap else None, vif_id=vid
        ),
    )


def _strict_unplug_plan(
    vif: _VIF, instance_info: _Instance, config: Options, found: Discovered
) -> Plan:
    bridge = _integration_bridge(vif)
    trunk = naming.is_trunk_bridge(bridge)
    if isinstance(vif, vif_objects.VIFBridge):
        plan = Plan(label=rules.vif_id(vif))
        _hybrid_unplug(vif, plan, hybrid_devices(vif), trunk)
        return plan
    if isinstance(vif, vif_objects.VIFOpenVSwitch):
        profile = _profile(vif)
        vid = _optional_vif_id(vif)
        name = _vif_name(vif)
        plan = Plan(label=vid or name)
        if config.per_port_bridge:
            vid = rules.vif_id(vif)
            own = naming.per_port_bridge(vid)
            _own_patch, int_patch = naming.per_port_patches(vid)
            plan.add(
                _removal(vif, name, remove_bridge=True, per_port_bridge=own),
                ovs.RemoveOvsPort(
                    name=int_patch,
                    iface_id=vid,
                    mac=rules.vif_mac(vif),
                    remove_bridge_if_unused=trunk,
                ),
            )
        else:
            if found.hybrid_bridge and vid is not None:
                # Plugged hybrid before a cold migration: unplugged as
                # hybrid, as os-vif 5.x does.
                _hybrid_unplug(vif, plan, naming.hybrid_names(vid), trunk)
            # Whether or not the plug made it (create_port): a port of
            # this VIF's left on the bridge goes, as os-vif 5.x did.
            plan.add(_removal(vif, name, remove_bridge=trunk))
        if _optional(lambda: profile.create_tap):
            plan.add(kernel.DeleteDevice(name=name, kind="tun", vif_id=vid))
        return plan
    vid = rules.vif_id(vif)
    plan = Plan(label=vid)
    wanted = plug_plan(vif, instance_info, config, found)
    for step in wanted.ovsdb:
        if isinstance(step, ovs.EnsureOvsPort):
            plan.add(_removal(vif, step.device, remove_bridge=trunk))
    if found.representor is not None:
        # The representor stays (the NIC's); it is set down, as os-vif
        # 5.x left it.
        plan.add(
            kernel.SetLink(
                name=found.representor, up=False, role="representor"
            )
        )
    return plan


def _with_trunk_bridge(vif: _VIF, plan: Plan) -> Plan:
    # A trunk bridge left unused goes, whether or not the VIF's port was
    # there still (os-vif 5.x deleted it on every unplug).
    bridge = _integration_bridge(vif)
    if naming.is_trunk_bridge(bridge):
        plan.add(ovs.DeleteOvsBridge(name=bridge))
    return plan


def unplug_plan(
    vif: _VIF, instance_info: _Instance, config: Options, found: Discovered
) -> Plan:
    """Return the plan that unplugs ``vif``.

    Lenient where os-vif 5.x was: when a field plug would refuse (an MTU
    out of range, a 16-byte port name 5.x wrote) makes the strict plan
    impossible, or discovery found the VIF's VF gone, the VIF's ports are
    found by its identity instead.
    """
    if found.vanished is not None:
        return vanished_plan(vif)
    try:
        return _with_trunk_bridge(
            vif, _strict_unplug_plan(vif, instance_info, config, found)
        )
    except exception.InvalidArgument as err:
        if not isinstance(vif, vif_objects.VIFBase) or not _optional(
            lambda: vif.address
        ):
            raise
        try:
            plan = vanished_plan(vif)
        except exception.InvalidArgument:
            raise err from None
        LOG.info(
            "Unplugging VIF %s by its identity: %s",
            _optional(lambda: vif.id),
            err,
        )
        name = rules.vif_name(vif)
        if isinstance(vif, vif_objects.VIFOpenVSwitch) and _creates_tap(vif):
            tap = rules.lenient(
                lambda: kernel.DeleteDevice(
                    name=name, kind="tun", vif_id=rules.vif_id(vif)
                ),
                "the tap",
            )
            if tap is not None:
                plan.add(tap)
        return plan
