"""Field types of the os_vif objects, beyond those oslo.versionedobjects has.

Public API: the enum classes below name the values clients may put in the
matching fields, e.g. ``fields.VIFDirectMode.PASSTHROUGH``.
"""

from __future__ import annotations

from oslo_versionedobjects import fields

__all__ = [
    "ListOfIPAddressField",
    "VIFDirectMode",
    "VIFDirectModeField",
    "VIFHostDeviceDevType",
    "VIFHostDeviceDevTypeField",
    "VIFVHostUserMode",
    "VIFVHostUserModeField",
]


class VIFVHostUserMode(fields.Enum):
    """Which end of a vhost-user socket the guest (QEMU) plays."""

    #: QEMU connects to the socket; the switch creates it.
    CLIENT = "client"
    #: QEMU creates the socket; the switch connects to it.
    SERVER = "server"

    ALL = (CLIENT, SERVER)

    def __init__(self) -> None:
        super().__init__(valid_values=VIFVHostUserMode.ALL)


class VIFVHostUserModeField(fields.BaseEnumField):
    """A field holding one :class:`VIFVHostUserMode` value."""

    AUTO_TYPE = VIFVHostUserMode()


class VIFDirectMode(fields.Enum):
    """How a macvtap (direct) device forwards traffic of the guest."""

    VEPA = "vepa"
    PASSTHROUGH = "passthrough"
    BRIDGE = "bridge"

    ALL = (VEPA, PASSTHROUGH, BRIDGE)

    def __init__(self) -> None:
        super().__init__(valid_values=VIFDirectMode.ALL)


class VIFDirectModeField(fields.BaseEnumField):
    """A field holding one :class:`VIFDirectMode` value."""

    AUTO_TYPE = VIFDirectMode()


class VIFHostDeviceDevType(fields.Enum):
    """What kind of PCI device a VIFHostDevice is."""

    ETHERNET = "ethernet"
    GENERIC = "generic"

    ALL = (ETHERNET, GENERIC)

    def __init__(self) -> None:
        super().__init__(valid_values=VIFHostDeviceDevType.ALL)


class VIFHostDeviceDevTypeField(fields.BaseEnumField):
    """A field holding one :class:`VIFHostDeviceDevType` value."""

    AUTO_TYPE = VIFHostDeviceDevType()


class ListOfIPAddressField(fields.AutoTypedField):
    """A list of IPv4 or IPv6 addresses (:class:`netaddr.IPAddress`)."""

    AUTO_TYPE = fields.List(fields.IPAddress())
