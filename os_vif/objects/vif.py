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

    fields = {
        "representor_name": fields.StringField(nullable=True),
        "representor_address": fields.StringField(nullable=True),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        representor_name: str | None
        representor_address: str | None


# --------------------------------------------------------------------------
# Port profiles


@_register
class VIFPortProfileBase(osv_base.VersionedObject):
    """Base of every port profile."""

    # 1.0: initial version
    # 1.1: datapath_offload
    VERSION = "1.1"
    VERSION_STEPS = {"1.1": ("datapath_offload",)}

    fields = {
        #: How the datapath is offloaded, if it is.
        "datapath_offload": fields.ObjectField(
            "DatapathOffloadBase", nullable=True, subclasses=True
        ),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        datapath_offload: DatapathOffloadBase | None

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

    fields = {
        #: The neutron port ID, written to the Interface's external_ids.
        "interface_id": fields.UUIDField(),
        #: The name of the port profile (e.g. a QoS profile).
        "profile_id": fields.StringField(),
        #: The bridge's datapath type (``system``, ``netdev``...).
        "datapath_type": fields.StringField(nullable=True),
        #: Whether os_vif creates the OVS port (rather than the hypervisor).
        "create_port": fields.BooleanField(default=False),
        #: Whether os_vif creates the tap device itself.
        "create_tap": fields.BooleanField(default=False),
        #: Whether a tap os_vif creates has several queues.
        "multiqueue": fields.BooleanField(default=False),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        interface_id: str
        profile_id: str
        datapath_type: str | None
        create_port: bool
        create_tap: bool
        multiqueue: bool

    obj_relationships = {"datapath_offload": [("1.2", "1.0")]}


@_register
class VIFPortProfileFPOpenVSwitch(VIFPortProfileOpenVSwitch):
    """A port on a fast-path (6WIND) Open vSwitch."""

    # 1.0: initial version
    # 1.1 .. 1.4: follow VIFPortProfileOpenVSwitch 1.1 .. 1.4
    VERSION = "1.4"

    fields = {
        #: The Linux bridge used for hybrid plugging.
        "bridge_name": fields.StringField(),
        #: Whether the VIF is plugged into a Linux bridge first.
        "hybrid_plug": fields.BooleanField(default=False),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        bridge_name: str
        hybrid_plug: bool


@_register
class VIFPortProfileOVSRepresentor(VIFPortProfileOpenVSwitch):
    """An Open vSwitch port for a VF's representor (hardware offload).

    Deprecated in favour of :class:`VIFPortProfileOpenVSwitch` with a
    :class:`DatapathOffloadRepresentor`, but still what nova sends.
    """

    # 1.0: initial version
    # 1.1 .. 1.4: follow VIFPortProfileOpenVSwitch 1.1 .. 1.4
    VERSION = "1.4"

    fields = {
        #: Name of the representor netdev.
        "representor_name": fields.StringField(nullable=True),
        #: PCI address of the VF the representor stands for.
        "representor_address": fields.PCIAddressField(nullable=True),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        representor_name: str | None
        representor_address: str | None

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

    fields = {
        #: The Linux bridge to attach to.
        "bridge_name": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        bridge_name: str


@_register
class VIFPortProfileFPTap(VIFPortProfileBase):
    """A fast-path (6WIND) tap port for a routed back end."""

    # 1.0: initial version
    # 1.1: datapath_offload (VIFPortProfileBase 1.1)
    VERSION = "1.1"

    fields = {
        #: MAC address of the host side of the tap.
        "mac_address": fields.MACAddressField(nullable=True),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        mac_address: str | None


@_register
class VIFPortProfile8021Qbg(VIFPortProfileBase):
    """An 802.1Qbg (VEPA) port profile."""

    # 1.0: initial version
    # 1.1: datapath_offload (VIFPortProfileBase 1.1)
    VERSION = "1.1"

    fields = {
        "manager_id": fields.IntegerField(),
        "type_id": fields.IntegerField(),
        "type_id_version": fields.IntegerField(),
        "instance_id": fields.UUIDField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        manager_id: int
        type_id: int
        type_id_version: int
        instance_id: str


@_register
class VIFPortProfile8021Qbh(VIFPortProfileBase):
    """An 802.1Qbh (port extender) port profile."""

    # 1.0: initial version
    # 1.1: datapath_offload (VIFPortProfileBase 1.1)
    VERSION = "1.1"

    fields = {
        "profile_id": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        profile_id: str


@_register
class VIFPortProfileK8sDPDK(VIFPortProfileBase):
    """A DPDK port of a Kubernetes pod."""

    # 1.0: initial version
    # 1.1: datapath_offload (VIFPortProfileBase 1.1)
    VERSION = "1.1"

    fields = {
        #: Whether the interface needs an L3 setup by the CNI.
        "l3_setup": fields.BooleanField(),
        #: selfLink of the pod.
        "selflink": fields.StringField(),
        #: resourceVersion of the pod.
        "resourceversion": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        l3_setup: bool
        selflink: str
        resourceversion: str


# --------------------------------------------------------------------------
# VIFs


@_register
class VIFBase(osv_base.VersionedObject):
    """Base of every VIF type."""

    # 1.0: initial version
    VERSION = "1.0"

    fields = {
        #: The neutron port ID.
        "id": fields.UUIDField(),
        #: The guest's MAC address.
        "address": fields.MACAddressField(nullable=True),
        #: The network the VIF is on.
        "network": fields.ObjectField("Network", nullable=True),
        #: Name of the os_vif plugin that plugs this VIF.
        "plugin": fields.StringField(),
        #: Whether the port is administratively up.
        "active": fields.BooleanField(default=True),
        #: Whether the port outlives the instance (a pre-created port).
        "preserve_on_delete": fields.BooleanField(default=False),
        #: Whether the network back end filters traffic itself, so the host
        #: firewall has nothing to do.
        "has_traffic_filtering": fields.BooleanField(default=False),
        #: Back-end specific settings.
        "port_profile": fields.ObjectField(
            "VIFPortProfileBase", subclasses=True
        ),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        id: str
        address: str | None
        network: Network | None
        plugin: str
        active: bool
        preserve_on_delete: bool
        has_traffic_filtering: bool
        port_profile: VIFPortProfileBase

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

    fields = {
        #: Name of the host-side device.
        "vif_name": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        vif_name: str


@_register
class VIFBridge(VIFBase):
    """A device attached to a Linux bridge."""

    # 1.0: initial version
    VERSION = "1.0"

    fields = {
        #: Name of the host-side device (the tap).
        "vif_name": fields.StringField(),
        #: Name of the Linux bridge.
        "bridge_name": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        vif_name: str
        bridge_name: str


@_register
class VIFOpenVSwitch(VIFBase):
    """A device attached to an Open vSwitch bridge."""

    # 1.0: initial version
    VERSION = "1.0"

    fields = {
        #: Name of the host-side device (the tap / OVS port).
        "vif_name": fields.StringField(),
        #: Name of the Open vSwitch bridge.
        "bridge_name": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        vif_name: str
        bridge_name: str


@_register
class VIFDirect(VIFBase):
    """A macvtap device on a host interface (SR-IOV VF or NIC)."""

    # 1.0: initial version
    VERSION = "1.0"

    fields = {
        #: Name of the macvtap device.
        "vif_name": fields.StringField(),
        #: How the macvtap forwards traffic.
        "mode": osv_fields.VIFDirectModeField(),
        #: PCI address of the underlying device.
        "dev_address": fields.PCIAddressField(),
        #: Name of a VLAN device to put the macvtap on.
        "vlan_name": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        vif_name: str
        mode: str
        dev_address: str
        vlan_name: str


@_register
class VIFVHostUser(VIFBase):
    """A vhost-user socket shared between the guest and a userspace switch."""

    # 1.0: initial version
    # 1.1: vif_name
    VERSION = "1.1"
    VERSION_STEPS = {"1.1": ("vif_name",)}

    fields = {
        #: Name of the switch port (and of the socket for some back ends).
        "vif_name": fields.StringField(),
        #: Which side creates the socket.
        "mode": osv_fields.VIFVHostUserModeField(),
        #: Path of the UNIX socket.
        "path": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        vif_name: str
        mode: str
        path: str


@_register
class VIFHostDevice(VIFBase):
    """A PCI device (an SR-IOV VF) passed through to the guest."""

    # 1.0: initial version
    VERSION = "1.0"

    fields = {
        #: ``ethernet`` for a NIC, ``generic`` for anything else.
        "dev_type": osv_fields.VIFHostDeviceDevTypeField(),
        #: PCI address of the device.
        "dev_address": fields.PCIAddressField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        dev_type: str
        dev_address: str


@_register
class VIFNestedDPDK(VIFBase):
    """A DPDK-bound device of a nested (pod in a VM) Kubernetes pod."""

    # 1.0: initial version
    VERSION = "1.0"

    fields = {
        #: PCI address of the device.
        "pci_address": fields.StringField(),
        #: Driver the device is bound to.
        "dev_driver": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        pci_address: str
        dev_driver: str


# --------------------------------------------------------------------------
# Types kuryr-kubernetes defined out of tree (wire names and versions kept).


@_register
class VIFVlanNested(VIFBase):
    """A VLAN device of a nested pod, on the VM's trunk port (kuryr)."""

    # 1.0: initial version (as kuryr-kubernetes defined it)
    VERSION = "1.0"

    fields = {
        #: Name of the device to create.
        "vif_name": fields.StringField(),
        #: VLAN ID of the subport.
        "vlan_id": fields.IntegerField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        vif_name: str
        vlan_id: int


@_register
class VIFMacvlanNested(VIFBase):
    """A macvlan device of a nested pod on the VM's interface (kuryr)."""

    # 1.0: initial version (as kuryr-kubernetes defined it)
    VERSION = "1.0"

    fields = {
        #: Name of the device to create.
        "vif_name": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        vif_name: str


@_register
class VIFDPDKNested(VIFNestedDPDK):
    """A DPDK device of a nested pod, with its interface name (kuryr)."""

    # 1.0: initial version (as kuryr-kubernetes defined it)
    VERSION = "1.0"

    fields = {
        #: Name of the interface.
        "vif_name": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        vif_name: str


@_register
class VIFSriov(VIFDirect):
    """An SR-IOV VF given to a pod (kuryr)."""

    # 1.0: initial version (as kuryr-kubernetes defined it)
    # 1.1: pod_name, pod_link
    VERSION = "1.1"
    VERSION_STEPS = {"1.1": ("pod_name", "pod_link")}

    fields = {
        #: Physical network of the VF.
        "physnet": fields.StringField(),
        #: Name of the pod the VF belongs to.
        "pod_name": fields.StringField(),
        #: Link to the pod the VF belongs to.
        "pod_link": fields.StringField(),
    }

    if TYPE_CHECKING:  # the fields, as the type checker sees them
        physnet: str
        pod_name: str
        pod_link: str
