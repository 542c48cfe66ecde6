"""Rules every in-tree plugin shares, written once.

* :func:`optional` -- a field read through the objects' declared, typed
  attribute (``optional(lambda: vif.network)``), or None when the field is
  unset: mypy sees every field a plugin reads, so a renamed field fails
  the type check;
* :func:`invalid` -- the :class:`~os_vif.exception.InvalidArgument` naming
  the field, value and reason;
* :func:`mtu` -- the MTU of a VIF's devices: ``network.mtu`` when set and
  not 0, else the plugin's ``network_device_mtu`` (os-vif 5.x's rule for
  both linux_bridge and ovs; 0 means "not set" on the wire);
  :func:`network_mtu` is the first half, for a plugin with no
  ``network_device_mtu`` (offload: no MTU leaves the device's alone);
* :func:`vif_mac`, :func:`pci_address` -- MAC and PCI addresses, checked
  and lower-cased by :mod:`os_vif.internal.validation` (one pattern each);
* :func:`ovs_interface_id`, :func:`ovs_external_ids` -- the identity a
  VIF's OVS Interface carries (``iface-id``, ``iface-status``,
  ``attached-mac``, ``vm-uuid``), the same for the ovs and offload plugins;
* :func:`lenient` -- for unplug, which must remove what a VIF plugged even
  when a field would now be refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, TypeVar

from os_vif import exception
from os_vif.internal import operation, validation
from os_vif.objects import vif as vif_objects

__all__ = [
    "optional",
    "invalid",
    "mtu",
    "network_mtu",
    "vif_mac",
    "optional_vif_mac",
    "ovs_interface_id",
    "ovs_external_ids",
    "pci_address",
    "vif_id",
    "optional_vif_id",
    "lenient",
    "MtuOptions",
    "NAMED_VIFS",
    "vif_name",
    "bridge_name",
]

LOG = logging.getLogger(__name__)

_T = TypeVar("_T")

invalid = operation.invalid


def optional(read: Callable[[], _T]) -> _T | None:
    """Return ``read()``, or None when the field it reads is unset.

    ``read`` is a typed read of a declared field, ``lambda: vif.network``:
    oslo.versionedobjects raises NotImplementedError ("cannot load") for a
    field that was never set, which here reads as None, as an unset field
    reads on the wire.
    """
    try:
        return read()
    except NotImplementedError:
        return None


#: The VIF types that name their host device (``vif_name``).
NAMED_VIFS = (
    vif_objects.VIFGeneric,
    vif_objects.VIFBridge,
    vif_objects.VIFOpenVSwitch,
    vif_objects.VIFDirect,
    vif_objects.VIFVHostUser,
    vif_objects.VIFVlanNested,
    vif_objects.VIFMacvlanNested,
    vif_objects.VIFDPDKNested,
)


def vif_name(vif: vif_objects.VIFBase) -> str | None:
    """Return the VIF's ``vif_name``, None when unset or not of its type."""
    if isinstance(vif, NAMED_VIFS):
        return optional(lambda: vif.vif_name)
    return None


def bridge_name(vif: vif_objects.VIFBase) -> str | None:
    """Return the VIF's ``bridge_name`` (VIFBridge, VIFOpenVSwitch), or
    None when unset or not of those types."""
    if isinstance(vif, (vif_objects.VIFBridge, vif_objects.VIFOpenVSwitch)):
        return optional(lambda: vif.bridge_name)
    return None


class MtuOptions(Protocol):
    """A plugin's options with a default MTU (linux_bridge, ovs)."""

    network_device_mtu: int


def network_mtu(vif: vif_objects.VIFBase) -> int | None:
    """Return ``vif.network.mtu``, checked, or None when unset or 0."""
    network = optional(lambda: vif.network)
    value = None if network is None else optional(lambda: network.mtu)
    if value:
        return validation.mtu(value, "vif.network.mtu")
    return None


def mtu(vif: vif_objects.VIFBase, config: MtuOptions) -> int:
    """Return the MTU for ``vif``'s devices (see the module)."""
    value = network_mtu(vif)
    if value is not None:
        return value
    return validation.mtu(config.network_device_mtu, "network_device_mtu")


def vif_mac(vif: vif_objects.VIFBase) -> str:
    """Return ``vif.address``, checked and lower-cased."""
    return validation.mac_address(
        optional(lambda: vif.address), "vif.address"
    )


def optional_vif_mac(vif: vif_objects.VIFBase) -> str | None:
    """Like :func:`vif_mac`, but None when the VIF has no address."""
    return validation.optional_mac_address(
        optional(lambda: vif.address), "vif.address"
    )


def ovs_interface_id(vif: vif_objects.VIFBase) -> str:
    """Return the ``iface-id`` of ``vif``'s OVS Interface: the port
    profile's ``interface_id``, else the VIF's id (as os-vif 5.x)."""
    profile = optional(lambda: vif.port_profile)
    value = (
        optional(lambda: profile.interface_id)
        if isinstance(profile, vif_objects.VIFPortProfileOpenVSwitch)
        else None
    ) or optional(lambda: vif.id)
    if value is None:
        raise invalid(
            "vif.port_profile.interface_id",
            None,
            "the VIF has neither an interface_id nor an id",
        )
    return str(value)


def ovs_external_ids(
    iface_id: str, mac: str | None, vm_uuid: object
) -> dict[str, str]:
    """Return the ``external_ids`` that say which VIF an OVS Interface is.

    Neutron's agents and the GC (:mod:`os_vif.internal.ovsdb.inventory`)
    find a VIF's port by them; ``mac`` is the checked ``vif.address``
    (``attached-mac`` is left out when the VIF has none).
    """
    ids = {"iface-id": iface_id, "iface-status": "active"}
    if mac is not None:
        ids["attached-mac"] = mac
    ids["vm-uuid"] = str(vm_uuid)
    return ids


def pci_address(value: object, name: str) -> str:
    """Return a PCI address, checked and lower-cased."""
    return validation.pci_address(value, name)


def vif_id(vif: vif_objects.VIFBase) -> str:
    """Return the VIF's id (os-vif 5.x derived device names from it)."""
    value = optional(lambda: vif.id)
    if value is None:
        raise invalid("vif.id", None, "the VIF has no id")
    return validation.vif_id(str(value), "vif.id")


def optional_vif_id(vif: vif_objects.VIFBase) -> str | None:
    """Return the VIF's id, or None when it has none (or none 5.x used)."""
    value = optional(lambda: vif.id)
    if value is None:
        return None
    try:
        return validation.vif_id(str(value), "vif.id")
    except exception.InvalidArgument:
        return None


def lenient(build: Callable[[], _T], what: str) -> _T | None:
    """Return ``build()``, or None (logged) when a field is now refused.

    Unplug is lenient where os-vif 5.x was: a VIF plugged with a value
    plug refuses today (an MTU out of range, a 16-byte port name 5.x
    wrote into OVSDB) is still unplugged, without the part that value
    would name.
    """
    try:
        return build()
    except exception.InvalidArgument as err:
        LOG.info("Unplug skips %s: %s", what, err)
        return None
