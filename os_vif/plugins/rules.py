"""Rules every in-tree plugin shares, written once.

* :func:`field` -- a versioned object's field, or a default when unset;
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
from typing import Any, TypeVar

from oslo_versionedobjects import base as ovo_base

from os_vif import exception
from os_vif.internal import operation, validation
from os_vif.objects import _ovo

__all__ = [
    "field",
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
]

LOG = logging.getLogger(__name__)

_T = TypeVar("_T")

invalid = operation.invalid


def field(obj: Any, name: str, default: Any = None) -> Any:
    """Return ``obj.name``, or ``default`` when ``obj`` is None, has no such
    field or the field was never set."""
    if obj is None:
        return default
    if isinstance(obj, ovo_base.VersionedObject):
        # One lookup where obj_attr_is_set and the attribute take three: a
        # plan reads a dozen fields of every VIF, a batch hundreds of VIFs.
        if name not in obj.fields:
            return default
        return _ovo.value_or(obj, name, default)
    fields = getattr(obj, "fields", None)
    if fields is not None and name not in fields:
        return default
    if not obj.obj_attr_is_set(name):
        return default
    return getattr(obj, name)


def network_mtu(vif: Any) -> int | None:
    """Return ``vif.network.mtu``, checked, or None when unset or 0."""
    value = field(field(vif, "network"), "mtu")
    if value:
        return validation.mtu(value, "vif.network.mtu")
    return None


def mtu(vif: Any, config: Any) -> int:
    """Return the MTU for ``vif``'s devices (see the module)."""
    value = network_mtu(vif)
    if value is not None:
        return value
    return validation.mtu(config.network_device_mtu, "network_device_mtu")


def vif_mac(vif: Any) -> str:
    """Return ``vif.address``, checked and lower-cased."""
    return validation.mac_address(field(vif, "address"), "vif.address")


def optional_vif_mac(vif: Any) -> str | None:
    """Like :func:`vif_mac`, but None when the VIF has no address."""
    return validation.optional_mac_address(
        field(vif, "address"), "vif.address"
    )


def ovs_interface_id(vif: Any) -> str:
    """Return the ``iface-id`` of ``vif``'s OVS Interface: the port
    profile's ``interface_id``, else the VIF's id (as os-vif 5.x)."""
    value = field(field(vif, "port_profile"), "interface_id") or field(
        vif, "id"
    )
    if value is None:
        raise invalid(
            "vif.port_profile.interface_id",
            None,
            "the VIF has neither an interface_id nor an id",
        )
    return str(value)


def ovs_external_ids(
    iface_id: str, mac: str | None, vm_uuid: Any
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


def pci_address(value: Any, name: str) -> str:
    """Return a PCI address, checked and lower-cased."""
    return validation.pci_address(value, name)


def vif_id(vif: Any) -> str:
    """Return the VIF's id (os-vif 5.x derived device names from it)."""
    value = field(vif, "id")
    if value is None:
        raise invalid("vif.id", None, "the VIF has no id")
    return validation.vif_id(str(value), "vif.id")


def optional_vif_id(vif: Any) -> str | None:
    """Return the VIF's id, or None when it has none (or none 5.x used)."""
    value = field(vif, "id")
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
