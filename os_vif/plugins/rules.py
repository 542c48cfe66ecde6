"""Rules every in-tree plugin shares, written once.

* :func:`field` -- a versioned object's field, or a default when unset;
* :func:`invalid` -- the :class:`~os_vif.exception.InvalidArgument` naming
  the field, value and reason;
* :func:`mtu` -- the MTU of a VIF's devices: ``network.mtu`` when set and
  not 0, else the plugin's ``network_device_mtu`` (os-vif 5.x's rule for
  both linux_bridge and ovs; 0 means "not set" on the wire);
* :func:`vif_mac`, :func:`pci_address` -- MAC and PCI addresses, checked
  and lower-cased by :mod:`os_vif.internal.validation` (one pattern each);
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
    "vif_mac",
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


def mtu(vif: Any, config: Any) -> int:
    """Return the MTU for ``vif``'s devices (see the module)."""
    network = field(vif, "network")
    value = field(network, "mtu")
    if value:
        return validation.mtu(value, "vif.network.mtu")
    return validation.mtu(config.network_device_mtu, "network_device_mtu")


def vif_mac(vif: Any) -> str:
    """Return ``vif.address``, checked and lower-cased."""
    return validation.mac_address(field(vif, "address"), "vif.address")


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
