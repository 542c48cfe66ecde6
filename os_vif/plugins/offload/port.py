"""What plugging one offloaded VIF means: the VF, its representor, its switch.

Discovery (:func:`discover`, with :class:`Found`, the plugin's one result
type for plug and unplug) checks the VIF's fields, then reads sysfs and
netlink; :func:`resolve` turns a VIF and what discovery found into an
:class:`OffloadedPort`, every value checked (pure); :func:`describe_port`
is both.  Nothing here changes the host, so a bad VIF or a missing device
is reported before any host operation.
"""

from __future__ import annotations

import dataclasses
import logging

from os_vif import exception
from os_vif.internal import linkstate, validation
from os_vif.internal.unprivileged import sysfs
from os_vif.objects import instance_info as instance_info_objects
from os_vif.objects import vif as vif_objects
from os_vif.plugins import rules
from os_vif.plugins.offload import options

__all__ = [
    "Found",
    "OffloadedPort",
    "SwitchPort",
    "VFSettings",
    "describe_port",
    "discover",
    "resolve",
]

LOG = logging.getLogger(__name__)

#: The MAC a VF gets back on unplug when the options ask for a reset.
ZERO_MAC = "00:00:00:00:00:00"

_optional = rules.optional
_Instance = instance_info_objects.InstanceInfo


@dataclasses.dataclass(frozen=True)
class VFSettings:
    """What is set on the VF through its PF (``ip link set <PF> vf <N>``)."""

    mac: str | None
    vlan: int | None
    spoofchk: bool
    trust: bool
    link_state: str


@dataclasses.dataclass(frozen=True)
class SwitchPort:
    """Where the representor is attached.

    ``kind`` is :data:`options.SWITCH_OVS` or
    :data:`options.SWITCH_LINUX_BRIDGE`; ``external_ids`` are the OVS
    ``Interface`` external ids (empty for a Linux bridge).
    """

    kind: str
    bridge: str
    external_ids: dict[str, str]
    datapath_type: str | None = None


@dataclasses.dataclass(frozen=True)
class OffloadedPort:
    """An offloaded VIF, checked and resolved against the host.

    ``representor`` and ``switch`` are ``None`` for a VF whose PF is in
    legacy mode and whose profile asks for no offload: only the VF is
    configured then (classic SR-IOV).
    """

    vif_id: str
    vf: sysfs.VirtualFunction
    representor: sysfs.Representor | None
    settings: VFSettings
    mtu: int | None
    switch: SwitchPort | None


@dataclasses.dataclass(frozen=True)
class Found:
    """What discovery found of a VIF's VF, for a plug or an unplug."""

    #: The VF; None when it left sysfs (an unplug only looks for what may
    #: be left of its OVS port then).
    vf: sysfs.VirtualFunction | None
    #: Its representor netdev (switchdev mode); None in legacy mode, or
    #: (unplug) when it is gone while its VF stayed.
    representor: sysfs.Representor | None = None
    #: Unplug: the master the representor has now.
    representor_master: str | None = None
    #: Unplug: the VF's PF is still there.
    pf_present: bool = True


def _hostdev_or_direct(
    vif: vif_objects.VIFBase,
) -> vif_objects.VIFHostDevice | vif_objects.VIFDirect:
    if isinstance(vif, vif_objects.VIFHostDevice):
        dev_type = _optional(lambda: vif.dev_type)
        if dev_type != "ethernet":
            raise exception.InvalidArgument(
                field="vif.dev_type",
                value=dev_type,
                reason="the offload plugin plugs only ethernet host devices",
            )
        return vif
    if not isinstance(vif, vif_objects.VIFDirect):
        raise exception.InvalidArgument(
            field="vif",
            value=type(vif).__name__,
            reason="the offload plugin handles VIFHostDevice and VIFDirect",
        )
    return vif


def _offload_requested(vif: vif_objects.VIFBase, vf_address: str) -> bool:
    """Tell whether the profile asks for a representor; check its address.

    A ``DatapathOffloadRepresentor`` (or the older OVS representor profile)
    must describe the same VF as the VIF itself.
    """
    profile = _optional(lambda: vif.port_profile)
    if profile is None:
        return False
    described: list[tuple[str, str | None]] = []
    offload = _optional(lambda: profile.datapath_offload)
    if isinstance(offload, vif_objects.DatapathOffloadRepresentor):
        described.append(
            (
                "vif.port_profile.datapath_offload.representor_address",
                _optional(lambda: offload.representor_address),
            )
        )
    if isinstance(profile, vif_objects.VIFPortProfileOVSRepresentor):
        described.append(
            (
                "vif.port_profile.representor_address",
                _optional(lambda: profile.representor_address),
            )
        )
    for field, address in described:
        if address is None:
            continue
        if validation.pci_address(address, field) != vf_address:
            raise exception.InvalidArgument(
                field=field,
                value=address,
                reason="the representor must stand for the VIF's own VF %s"
                % vf_address,
            )
    return bool(described)


def switch_port(
    vif: vif_objects.VIFBase, instance_info: _Instance, config: options.Options
) -> SwitchPort:
    """Return where the VIF's representor is attached (checked)."""
    profile = _optional(lambda: vif.port_profile)
    network = _optional(lambda: vif.network)
    bridge = None if network is None else _optional(lambda: network.bridge)
    ovs_profile = (
        profile
        if isinstance(profile, vif_objects.VIFPortProfileOpenVSwitch)
        else None
    )
    kind = (
        options.SWITCH_OVS
        if ovs_profile is not None
        else config.default_switch
    )
    if kind == options.SWITCH_OVS:
        bridge = bridge or config.ovs_bridge
        external_ids = rules.ovs_external_ids(
            rules.ovs_interface_id(vif),
            rules.optional_vif_mac(vif),
            _optional(lambda: instance_info.uuid),
        )
        return SwitchPort(
            kind,
            validation.interface_name(bridge, "vif.network.bridge"),
            external_ids,
            None
            if ovs_profile is None
            else _optional(lambda: ovs_profile.datapath_type),
        )
    if not bridge:
        raise exception.InvalidArgument(
            field="vif.network.bridge",
            value=bridge,
            reason="a representor attached to a Linux bridge needs the "
            "network's bridge name",
        )
    return SwitchPort(
        kind, validation.interface_name(bridge, "vif.network.bridge"), {}
    )


def vf_address(vif: vif_objects.VIFBase) -> str:
    """Return the VIF's VF PCI address, checked and normalised."""
    checked = _hostdev_or_direct(vif)
    return validation.pci_address(
        _optional(lambda: checked.dev_address), "vif.dev_address"
    )


def vf_settings(
    vif: vif_objects.VIFBase, config: options.Options, has_representor: bool
) -> VFSettings:
    """Return the VF settings the VIF and the options ask for.

    ``has_representor`` says whether the VF's PF is in switchdev mode,
    which decides where the network's VLAN goes with ``vf_vlan=auto``.
    """
    network = _optional(lambda: vif.network)
    vlan = None if network is None else _optional(lambda: network.vlan)
    if vlan is not None:
        vlan = validation.vlan_id(vlan, "vif.network.vlan")
    policy = config.vf_vlan
    if policy == options.VF_VLAN_NEVER or (
        policy == options.VF_VLAN_AUTO and has_representor
    ):
        vlan = None
    return VFSettings(
        mac=rules.optional_vif_mac(vif),
        vlan=vlan,
        spoofchk=config.spoof_check,
        trust=config.trust,
        link_state=config.vf_link_state,
    )


def discover(
    vif: vif_objects.VIFBase,
    instance_info: _Instance,
    config: options.Options,
    discovery: sysfs.SwitchdevDiscovery,
    *,
    unplug: bool = False,
) -> Found:
    """Check ``vif``, then find its VF and representor.

    For a plug, every field is checked before discovery.  For an
    ``unplug``, a VF gone from sysfs is a finding (``vf`` None), and so is
    a representor gone while its VF stayed.

    :raises InvalidArgument: a field of the VIF is wrong.
    :raises DeviceDiscoveryFailed: (plug) the VF, its PF or its
        representor is not where sysfs should show it.
    """
    address = vf_address(vif)
    if unplug:
        return _discover_unplug(address, discovery)
    # Every field is checked before discovery; the VLAN's fate waits for it.
    vf_settings(vif, config, has_representor=False)
    rules.network_mtu(vif)
    wants_representor = _offload_requested(vif, address)
    vf = discovery.virtual_function(address)
    if not wants_representor and (
        discovery.eswitch_mode(vf.pf_ifname) != sysfs.EswitchMode.SWITCHDEV
    ):
        LOG.debug(
            "VF %s: PF %s is in legacy mode, configuring the VF only",
            address,
            vf.pf_ifname,
        )
        return Found(vf)
    switch_port(vif, instance_info, config)
    return Found(vf, discovery.vf_representor(vf))


def _discover_unplug(
    address: str, discovery: sysfs.SwitchdevDiscovery
) -> Found:
    try:
        vf = discovery.virtual_function(address)
    except exception.DeviceDiscoveryFailed as err:
        LOG.info("VF %s is gone: %s", address, err)
        return Found(None)
    try:
        representor: sysfs.Representor | None = discovery.vf_representor(vf)
    except Exception:
        # Legacy mode (no representors), or a representor that went while
        # its VF stayed: nothing was, or can be, found to detach.
        representor = None
    master = None
    if representor is not None:
        device = linkstate.get_device(representor.ifname)
        if device is None:
            representor = None
        else:
            master = device.master
    return Found(
        vf, representor, master, linkstate.device_exists(vf.pf_ifname)
    )


def resolve(
    vif: vif_objects.VIFBase,
    instance_info: _Instance,
    config: options.Options,
    found: Found,
) -> OffloadedPort:
    """The port a plug makes of ``vif`` and what discovery found (pure)."""
    if found.vf is None:
        raise exception.DeviceDiscoveryFailed(
            looked_for="VF",
            device=vf_address(vif),
            reason="discovery was not run",
        )
    representor = found.representor
    settings = vf_settings(
        vif, config, has_representor=representor is not None
    )
    mtu = rules.network_mtu(vif)
    switch = (
        None
        if representor is None
        else switch_port(vif, instance_info, config)
    )
    return OffloadedPort(
        str(_optional(lambda: vif.id)),
        found.vf,
        representor,
        settings,
        mtu,
        switch,
    )


def describe_port(
    vif: vif_objects.VIFBase,
    instance_info: _Instance,
    config: options.Options,
    discovery: sysfs.SwitchdevDiscovery,
) -> OffloadedPort:
    """Check ``vif`` and resolve its VF, representor and switch port.

    :raises InvalidArgument: a field of the VIF is wrong.
    :raises DeviceDiscoveryFailed: the VF, its PF or its representor is
        not where sysfs should show it.
    """
    found = discover(vif, instance_info, config, discovery)
    return resolve(vif, instance_info, config, found)
