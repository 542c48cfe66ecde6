"""VIF types, port profiles and datapath offloads.

Public API: clients construct these classes, plugins read them.  A VIF
describes how a guest's network interface is attached to the host; its
``port_profile`` carries what the network back end needs to know, and a
port profile's ``datapath_offload`` says how the datapath is offloaded to
hardware.

The kuryr-kubernetes types (:class:`VIFVlanNested`,
:class:`VIFMacvlanNested`, :class:`VIFDPDKNested`, :class:`VIFSriov`) live
here since os_vif 6.0, with the names, versions and fields kuryr-kubernetes
gave them, so that what kuryr stored loads with os_vif alone.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from oslo_versionedobjects import base as ovo_base
from oslo_versionedobjects import fields

from os_vif.objects import base as osv_base
from os_vif.objects import fields as osv_fields
from os_vif.objects._ovo import declare

if TYPE_CHECKING:
    from os_vif.objects.network import Network

__all__ = [
    "DatapathOffloadBase",
    "DatapathOffloadRepresentor",
    "VIFBase",
    "VIFGeneric",
    "VIFBridge",
    "VIFOpenVSwitch",
    "VIFDirect",
    "VIFVHostUser",
    "VIFHostDevice",
    "VIFNestedDPDK",
    "VIFVlanNested",
    "VIFMacvlanNested",
    "VIFDPDKNested",
    "VIFSriov",
    "VIFPortProfileBase",
    "VIFPortProfileOpenVSwitch",
    "VIFPortProfileFPOpenVSwitch",
    "VIFPortProfileOVSRepresentor",
    "VIFPortProfileFPBridge",
    "VIFPortProfileFPTap",
    "VIFPortProfile8021Qbg",
    "VIFPortProfile8021Qbh",
    "VIFPortProfileK8sDPDK",
]

_register = ovo_base.VersionedObjectRegistry.register


# --------------------------------------------------------------------------
# Datapath offloads


@_register
class DatapathOffloadBase(osv_base.VersionedObject):
    """Base of the datapath offload types carried by a port profile."""

    # 1.0: initial version
    VERSION = "1.0"

    fields: dict[str, Any] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        osv_base.warn_if_subclassed_outside(cls, "DatapathOffloadBase")


@_register
class DatapathOffloadRepresentor(DatapathOffloadBase):
    """The datapath is offloaded to a NIC through a representor netdev.

    ``representor_name`` is the representor's interface name and
    ``representor_address`` the PCI address of the device it represents.
    """

    # 1.0: initial version
    VERSION = "1.0"

    representor_name: str | None = declare(fields.StringField(nullable=True))
    representor_address: str | None = declare(
        fields.StringField(nullable=True)
    )


# --------------------------------------------------------------------------
# Port profiles


@_register
class VIFPortProfileBase(osv_base.VersionedObject):
    """Base of every port profile."""

    # 1.0: initial version
    # 1.1: datapath_offload
    VERSION = "1.1"
    VERSION_STEPS = {"1.1": ("datapath_offload",)}

    #: How the datapath is offloaded, if it is.
    datapath_offload: DatapathOffloadBase | None = declare(
        fields.ObjectField(
            "DatapathOffloadBase", nullable=True, subclasses=True
        )
    )

    obj_relationships = {"datapath_offload": [("1.1", "1.0")]}
    KEPT_WITH_MANIFEST = ("datapath_offload",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        osv_base.warn_if_subclassed_outside(cls, "VIFPortProfileBase")


@_register
class VIFPortProfileOpenVSwitch(VIFPortProfileBase):
    """A port on an Open vSwitch bridge."""

    # 1.0: initial version
    # 1.1: datapath_type
    # 1.2: datapath_offload (VIFPortProfileBase 1.1)
    # 1.3: create_port
    # 1.4: create_tap, multiqueue
    VERSION = "1.4"
    VERSION_STEPS = {
        "1.1": ("datapath_type",),
        "1.2": ("datapath_offload",),
        "1.3": ("create_port",),
        "1.4": ("create_tap", "multiqueue"),
    }

    #: The neutron port ID, written to the Interface's external_ids.
    interface_id: str = declare(fields.UUIDField())
    #: The name of the port profile (e.g. a QoS profile).
    profile_id: str = declare(fields.StringField())
    #: The bridge's datapath type (``system``, ``netdev``...).
    datapath_type: str | None = declare(fields.StringField(nullable=True))
    #: Whether os_vif creates the OVS port (rather than the hypervisor).
    create_port: bool = declare(fields.BooleanField(default=False))
    #: Whether os_vif creates the tap device itself.
    create_tap: bool = declare(fields.BooleanField(default=False))
    #: Whether a tap os_vif creates has several queues.
    multiqueue: bool = declare(fields.BooleanField(default=False))

    obj_relationships = {"datapath_offload": [("1.2", "1.0")]}


@_register
class VIFPortProfileFPOpenVSwitch(VIFPortProfileOpenVSwitch):
    """A port on a fast-path (6WIND) Open vSwitch."""

    # 1.0: initial version
    # 1.1 .. 1.4: follow VIFPortProfileOpenVSwitch 1.1 .. 1.4
    VERSION = "1.4"

    #: The Linux bridge used for hybrid plugging.
    bridge_name: str = declare(fields.StringField())
    #: Whether the VIF is plugged into a Linux bridge first.
    hybrid_plug: bool = declare(fields.BooleanField(default=False))


@_register
class VIFPortProfileOVSRepresentor(VIFPortProfileOpenVSwitch):
    """An Open vSwitch port for a VF's representor (hardware offload).

    Deprecated in favour of :class:`VIFPortProfileOpenVSwitch` with a
    :class:`DatapathOffloadRepresentor`, but still what nova sends.
    """

    # 1.0: initial version
    # 1.1 .. 1.4: follow VIFPortProfileOpenVSwitch 1.1 .. 1.4
    VERSION = "1.4"

    #: Name of the representor netdev.
    representor_name: str | None = declare(fields.StringField(nullable=True))
    #: PCI address of the VF the representor stands for.
    representor_address: str | None = declare(
        fields.PCIAddressField(nullable=True)
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Make the profile, warning that the class is on its way out.

        As in os-vif 5.x, every construction (loading one from the wire
        included) emits a :class:`PendingDeprecationWarning`, which Python
        hides unless asked to show it.
        """
        warnings.warn(
            "Using class 'VIFPortProfileOVSRepresentor' (either directly or "
            "via inheritance) is deprecated",
            PendingDeprecationWarning,
            stacklevel=2,
        )
        super().__init__(*args, **kwargs)


@_register
class VIFPortProfileFPBridge(VIFPortProfileBase):
    """A port on a fast-path (6WIND) Linux bridge."""

    # 1.0: initial version
    # 1.1: datapath_offload (VIFPortProfileBase 1.1)
    VERSION = "1.1"

    #: The Linux bridge to attach to.
    bridge_name: str = declare(fields.StringField())


@_register
class VIFPortProfileFPTap(VIFPortProfileBase):
    """A fast-path (6WIND) tap port for a routed back end."""

    # 1.0: initial version
    # 1.1: datapath_offload (VIFPortProfileBase 1.1)
    VERSION = "1.1"

    #: MAC address of the host side of the tap.
    mac_address: str | None = declare(fields.MACAddressField(nullable=True))


@_register
class VIFPortProfile8021Qbg(VIFPortProfileBase):
    """An 802.1Qbg (VEPA) port profile."""

    # 1.0: initial version
    # 1.1: datapath_offload (VIFPortProfileBase 1.1)
    VERSION = "1.1"

    manager_id: int = declare(fields.IntegerField())
    type_id: int = declare(fields.IntegerField())
    type_id_version: int = declare(fields.IntegerField())
    instance_id: str = declare(fields.UUIDField())


@_register
class VIFPortProfile8021Qbh(VIFPortProfileBase):
    """An 802.1Qbh (port extender) port profile."""

    # 1.0: initial version
    # 1.1: datapath_offload (VIFPortProfileBase 1.1)
    VERSION = "1.1"

    profile_id: str = declare(fields.StringField())


@_register
class VIFPortProfileK8sDPDK(VIFPortProfileBase):
    """A DPDK port of a Kubernetes pod."""

    # 1.0: initial version
    # 1.1: datapath_offload (VIFPortProfileBase 1.1)
    VERSION = "1.1"

    #: Whether the interface needs an L3 setup by the CNI.
    l3_setup: bool = declare(fields.BooleanField())
    #: selfLink of the pod.
    selflink: str = declare(fields.StringField())
    #: resourceVersion of the pod.
    resourceversion: str = declare(fields.StringField())


# --------------------------------------------------------------------------
# VIFs


@_register
class VIFBase(osv_base.VersionedObject):
    """Base of every VIF type."""

    # 1.0: initial version
    VERSION = "1.0"

    #: The neutron port ID.
    id: str = declare(fields.UUIDField())
    #: The guest's MAC address.
    address: str | None = declare(fields.MACAddressField(nullable=True))
    #: The network the VIF is on.
    network: Network | None = declare(
        fields.ObjectField("Network", nullable=True)
    )
    #: Name of the os_vif plugin that plugs this VIF.
    plugin: str = declare(fields.StringField())
    #: Whether the port is administratively up.
    active: bool = declare(fields.BooleanField(default=True))
    #: Whether the port outlives the instance (a pre-created port).
    preserve_on_delete: bool = declare(fields.BooleanField(default=False))
    #: Whether the network back end filters traffic itself, so the host
    #: firewall has nothing to do.
    has_traffic_filtering: bool = declare(fields.BooleanField(default=False))
    #: Back-end specific settings.
    port_profile: VIFPortProfileBase = declare(
        fields.ObjectField("VIFPortProfileBase", subclasses=True)
    )

    obj_relationships = {
        "network": [("1.0", "1.1")],
        "port_profile": [("1.0", "1.1")],
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        osv_base.warn_if_subclassed_outside(cls, "VIFBase")


@_register
class VIFGeneric(VIFBase):
    """A generic network device the hypervisor creates (a tap)."""

    # 1.0: initial version
    VERSION = "1.0"

    #: Name of the host-side device.
    vif_name: str = declare(fields.StringField())


@_register
class VIFBridge(VIFBase):
    """A device attached to a Linux bridge."""

    # 1.0: initial version
    VERSION = "1.0"

    #: Name of the host-side device (the tap).
    vif_name: str = declare(fields.StringField())
    #: Name of the Linux bridge.
    bridge_name: str = declare(fields.StringField())


@_register
class VIFOpenVSwitch(VIFBase):
    """A device attached to an Open vSwitch bridge."""

    # 1.0: initial version
    VERSION = "1.0"

    #: Name of the host-side device (the tap / OVS port).
    vif_name: str = declare(fields.StringField())
    #: Name of the Open vSwitch bridge.
    bridge_name: str = declare(fields.StringField())


@_register
class VIFDirect(VIFBase):
    """A macvtap device on a host interface (SR-IOV VF or NIC)."""

    # 1.0: initial version
    VERSION = "1.0"

    #: Name of the macvtap device.
    vif_name: str = declare(fields.StringField())
    #: How the macvtap forwards traffic.
    mode: str = declare(osv_fields.VIFDirectModeField())
    #: PCI address of the underlying device.
    dev_address: str = declare(fields.PCIAddressField())
    #: Name of a VLAN device to put the macvtap on.
    vlan_name: str = declare(fields.StringField())


@_register
class VIFVHostUser(VIFBase):
    """A vhost-user socket shared between the guest and a userspace switch."""

    # 1.0: initial version
    # 1.1: vif_name
    VERSION = "1.1"
    VERSION_STEPS = {"1.1": ("vif_name",)}

    #: Name of the switch port (and of the socket for some back ends).
    vif_name: str = declare(fields.StringField())
    #: Which side creates the socket.
    mode: str = declare(osv_fields.VIFVHostUserModeField())
    #: Path of the UNIX socket.
    path: str = declare(fields.StringField())


@_register
class VIFHostDevice(VIFBase):
    """A PCI device (an SR-IOV VF) passed through to the guest."""

    # 1.0: initial version
    VERSION = "1.0"

    #: ``ethernet`` for a NIC, ``generic`` for anything else.
    dev_type: str = declare(osv_fields.VIFHostDeviceDevTypeField())
    #: PCI address of the device.
    dev_address: str = declare(fields.PCIAddressField())


@_register
class VIFNestedDPDK(VIFBase):
    """A DPDK-bound device of a nested (pod in a VM) Kubernetes pod."""

    # 1.0: initial version
    VERSION = "1.0"

    #: PCI address of the device.
    pci_address: str = declare(fields.StringField())
    #: Driver the device is bound to.
    dev_driver: str = declare(fields.StringField())


# --------------------------------------------------------------------------
# Types kuryr-kubernetes defined out of tree (wire names and versions kept).


@_register
class VIFVlanNested(VIFBase):
    """A VLAN device of a nested pod, on the VM's trunk port (kuryr)."""

    # 1.0: initial version (as kuryr-kubernetes defined it)
    VERSION = "1.0"

    #: Name of the device to create.
    vif_name: str = declare(fields.StringField())
    #: VLAN ID of the subport.
    vlan_id: int = declare(fields.IntegerField())


@_register
class VIFMacvlanNested(VIFBase):
    """A macvlan device of a nested pod on the VM's interface (kuryr)."""

    # 1.0: initial version (as kuryr-kubernetes defined it)
    VERSION = "1.0"

    #: Name of the device to create.
    vif_name: str = declare(fields.StringField())


@_register
class VIFDPDKNested(VIFNestedDPDK):
    """A DPDK device of a nested pod, with its interface name (kuryr)."""

    # 1.0: initial version (as kuryr-kubernetes defined it)
    VERSION = "1.0"

    #: Name of the interface.
    vif_name: str = declare(fields.StringField())


@_register
class VIFSriov(VIFDirect):
    """An SR-IOV VF given to a pod (kuryr)."""

    # 1.0: initial version (as kuryr-kubernetes defined it)
    # 1.1: pod_name, pod_link
    VERSION = "1.1"
    VERSION_STEPS = {"1.1": ("pod_name", "pod_link")}

    #: Physical network of the VF.
    physnet: str = declare(fields.StringField())
    #: Name of the pod the VF belongs to.
    pod_name: str = declare(fields.StringField())
    #: Link to the pod the VF belongs to.
    pod_link: str = declare(fields.StringField())
