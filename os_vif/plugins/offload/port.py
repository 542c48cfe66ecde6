"""What plugging one offloaded VIF means: the VF, its representor, its switch.

:func:`describe_port` turns a VIF (and the instance it belongs to) into an
:class:`OffloadedPort`: every value checked, the VF and its representor
discovered in sysfs.  Nothing here changes the host, so a bad VIF or a
missing device is reported before any host operation.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from os_vif import exception
from os_vif.internal import validation
from os_vif.internal.unprivileged import sysfs
from os_vif.objects import vif as vif_objects
from os_vif.plugins import rules
from os_vif.plugins.offload import options

__all__ = ["OffloadedPort", "SwitchPort", "VFSettings", "describe_port"]

LOG = logging.getLogger(__name__)

#: The MAC a VF gets back on unplug when the options ask for a reset.
ZERO_MAC = "00:00:00:00:00:00"


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


def _field(obj: Any, name: str) -> Any:
    """Return ``obj.name``, or ``None`` when the field is unset."""
    if obj is None or name not in obj.fields or not obj.obj_attr_is_set(name):
        return None
    return getattr(obj, name)


def _check_vif_type(vif: Any) -> None:
    if isinstance(vif, vif_objects.VIFHostDevice):
        if _field(vif, "dev_type") != "ethernet":
            raise exception.InvalidArgument(
                field="vif.dev_type",
                value=_field(vif, "dev_type"),
                reason="the offload plugin plugs only ethernet host devices",
            )
    elif not isinstance(vif, vif_objects.VIFDirect):
        raise exception.InvalidArgument(
            field="vif",
            value=type(vif).__name__,
            reason="the offload plugin handles VIFHostDevice and VIFDirect",
        )


def _offload_requested(vif: Any, vf_address: str) -> bool:
    """Tell whether the profile asks for a representor; check its address.

    A ``DatapathOffloadRepresentor`` (or the older OVS representor profile)
    must describe the same VF as the VIF itself.
    """
    profile = _field(vif, "port_profile")
    if profile is None:
        return False
    described = []
    offload = _field(profile, "datapath_offload")
    if isinstance(offload, vif_objects.DatapathOffloadRepresentor):
        described.append(
            (
                "vif.port_profile.datapath_offload.representor_address",
                _field(offload, "representor_address"),
            )
        )
    if isinstance(profile, vif_objects.VIFPortProfileOVSRepresentor):
        described.append(
            (
                "vif.port_profile.representor_address",
                _field(profile, "representor_address"),
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


def switch_port(vif: Any, instance_info: Any, config: Any) -> SwitchPort:
    profile = _field(vif, "port_profile")
    network = _field(vif, "network")
    bridge = _field(network, "bridge")
    if isinstance(profile, vif_objects.VIFPortProfileOpenVSwitch):
        kind = options.SWITCH_OVS
    else:
        kind = config.default_switch
    if kind == options.SWITCH_OVS:
        bridge = bridge or config.ovs_bridge
        external_ids = rules.ovs_external_ids(
            rules.ovs_interface_id(vif),
            rules.optional_vif_mac(vif),
            _field(instance_info, "uuid"),
        )
        return SwitchPort(
            kind,
            validation.interface_name(bridge, "vif.network.bridge"),
            external_ids,
            _field(profile, "datapath_type"),
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


def vf_address(vif: Any) -> str:
    """Return the VIF's VF PCI address, checked and normalised."""
    _check_vif_type(vif)
    return validation.pci_address(
        _field(vif, "dev_address"), "vif.dev_address"
    )


def vf_settings(vif: Any, config: Any, has_representor: bool) -> VFSettings:
    """Return the VF settings the VIF and the options ask for.

    ``has_representor`` says whether the VF's PF is in switchdev mode,
    which decides where the network's VLAN goes with ``vf_vlan=auto``.
    """
    network = _field(vif, "network")
    vlan = _field(network, "vlan")
    if vlan is not None:
        vlan = validation.vlan_id(vlan, "vif.network.vlan")
    policy = config.vf_vlan
    if policy == options.VF_VLAN_NEVER or (
        policy == options.VF_VLAN_AUTO and has_representor
    ):
        vlan = None
    return VFSettings(
        mac=validation.optional_mac_address(
            _field(vif, "address"), "vif.address"
        ),
        vlan=vlan,
        spoofchk=config.spoof_check,
        trust=config.trust,
        link_state=config.vf_link_state,
    )


def describe_port(
    vif: Any,
    instance_info: Any,
    config: Any,
    discovery: sysfs.SwitchdevDiscovery,
) -> OffloadedPort:
    """Check ``vif`` and resolve its VF, representor and switch port.

    :raises InvalidArgument: a field of the VIF is wrong.
    :raises DeviceDiscoveryFailed: the VF, its PF or its representor is
        not where sysfs should show it.
    """
    address = vf_address(vif)
    # Every field is checked before discovery; the VLAN's fate waits for it.
    vf_settings(vif, config, has_representor=False)
    mtu = rules.network_mtu(vif)
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
        settings = vf_settings(vif, config, has_representor=False)
        return OffloadedPort(str(vif.id), vf, None, settings, mtu, None)
    switch = switch_port(vif, instance_info, config)
    representor = discovery.vf_representor(vf)
    settings = vf_settings(vif, config, has_representor=True)
    return OffloadedPort(str(vif.id), vf, representor, settings, mtu, switch)
