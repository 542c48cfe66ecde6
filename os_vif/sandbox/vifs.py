"""VIF factories: the VIFs unit tests, functional tests, benchmarks and the
demo plug.

One set, so that what is measured is what is tested: each factory makes a
complete, valid VIF of one kind, deterministic from ``n`` (ids, MACs and
derived device names differ in their first 11 characters, as os-vif 5.x's
names need), with keyword arguments for what callers vary.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from os_vif.internal import names
from os_vif.objects import instance_info, network
from os_vif.objects import vif as vif_objects

__all__ = [
    "INSTANCE",
    "NETWORK_ID",
    "vif_id",
    "mac",
    "network_of",
    "ovs_vif",
    "hybrid_vif",
    "hybrid_devices",
    "vhostuser_vif",
    "representor_vif",
    "bridge_vif",
    "OffloadProfile",
    "offload_vif",
    "offload_direct_vif",
    "nested_vif",
]

#: The network every factory's VIF is on.
NETWORK_ID = "a1b2c3d4-0000-4000-8000-000000000001"

#: The instance the VIFs belong to.
INSTANCE = instance_info.InstanceInfo(
    uuid="d2c1b38e-4b6e-4a57-9b41-95e3e4e7a0f1", name="vm1", project_id="p1"
)


def vif_id(n: int = 0, family: int = 0xE5F60000) -> str:
    """A deterministic VIF id; ``n`` tells VIFs apart in the first 11."""
    return str(uuid.UUID(int=(family + n) << 96 | 0x1234))


def mac(n: int, kind: int = 0) -> str:
    """A deterministic unicast MAC for VIF ``n`` of factory ``kind``."""
    return "fa:16:3e:%02x:%02x:%02x" % (kind, n >> 8 & 0xFF, n & 0xFF)


def network_of(
    bridge: str | None, mtu: int | None = None, **extra: Any
) -> Any:
    """The factories' network, on ``bridge`` (None: a network naming none)."""
    net = network.Network(id=NETWORK_ID, **extra)
    if bridge is not None:
        net.bridge = bridge
    if mtu is not None:
        net.mtu = mtu
    return net


_network = network_of


def _profile(vid: str, **extra: Any) -> vif_objects.VIFPortProfileOpenVSwitch:
    return vif_objects.VIFPortProfileOpenVSwitch(
        interface_id=vid, datapath_type="netdev", **extra
    )


def ovs_vif(
    n: int = 0,
    *,
    bridge: str = "br-int",
    mtu: int | None = 1450,
    create_tap: bool = True,
    multiqueue: bool = False,
    vid: str | None = None,
    create_port: bool = True,
) -> vif_objects.VIFOpenVSwitch:
    """A ``VIFOpenVSwitch`` with ``create_port`` (and ``create_tap``).

    ``create_port=False, create_tap=False`` is the VIF libvirt plugs itself
    (it makes the tap and the port): os-vif only ensures its bridge, as
    os-vif 5.x does.
    """
    vid = vid or vif_id(n)
    return vif_objects.VIFOpenVSwitch(
        id=vid,
        address=mac(n),
        network=_network(bridge, mtu),
        plugin="ovs",
        vif_name=names.port_name("tap", vid),
        bridge_name=bridge,
        port_profile=_profile(
            vid,
            create_port=create_port,
            create_tap=create_tap,
            multiqueue=multiqueue,
        ),
    )


def hybrid_vif(
    n: int = 0,
    *,
    bridge: str = "br-int",
    mtu: int | None = 1450,
    vid: str | None = None,
    filtering: bool = True,
) -> vif_objects.VIFBridge:
    """A hybrid ``VIFBridge`` of the ovs plugin (``qbr``/``qvb``/``qvo``)."""
    vid = vid or vif_id(n)
    return vif_objects.VIFBridge(
        id=vid,
        address=mac(n, kind=1),
        network=_network(bridge, mtu),
        plugin="ovs",
        vif_name=names.port_name("tap", vid),
        bridge_name=names.hybrid_names(vid)[0],
        has_traffic_filtering=filtering,
        port_profile=_profile(vid),
    )


def hybrid_devices(vif: vif_objects.VIFBridge) -> list[str]:
    """The ``qbr``, ``qvb`` and ``qvo`` devices the ovs plugin makes for
    the hybrid ``vif``."""
    return list(names.hybrid_names(vif.id))


def vhostuser_vif(
    n: int = 0,
    *,
    mode: str = "server",
    path: str = "/tmp/vhu.sock",
    plugin: Literal["ovs", "noop"] = "ovs",
    vid: str | None = None,
) -> vif_objects.VIFVHostUser:
    """A ``VIFVHostUser`` (server mode: QEMU makes the socket).

    ``plugin="noop"``: a socket some other switch serves, which os-vif
    leaves alone; without a port profile (noop takes none).
    """
    vid = vid or vif_id(n)
    vif = vif_objects.VIFVHostUser(
        id=vid,
        address="fa:16:3e:02:00:%02x" % (n & 0xFF),
        network=_network("br-int", 1500),
        plugin=plugin,
        vif_name=names.port_name("vhu", vid),
        mode=mode,
        path=path,
    )
    if plugin == "ovs":
        vif.port_profile = _profile(vid)
    return vif


def representor_vif(vf_address: str, n: int = 0) -> vif_objects.VIFHostDevice:
    """A ``VIFHostDevice`` plugged into OVS through its VF's representor.

    Its profile names the ``netdev`` datapath, so the ovs plugin makes the
    DPDK representor port ``vfr<id>`` (as os-vif 5.x); a profile naming
    no datapath (or ``system``) plugs the VF's kernel representor netdev.
    """
    vid = vif_id(n)
    return vif_objects.VIFHostDevice(
        id=vid,
        address="fa:16:3e:03:00:%02x" % (n & 0xFF),
        network=_network("br-int", 1400),
        plugin="ovs",
        dev_type="ethernet",
        dev_address=vf_address,
        port_profile=vif_objects.VIFPortProfileOVSRepresentor(
            interface_id=vid,
            datapath_type="netdev",
            representor_address=vf_address,
        ),
    )


def bridge_vif(
    n: int = 0,
    *,
    bridge: str = "br-test0",
    tap: str | None = None,
    mtu: int | None = 1450,
    uplink: str | None = None,
    filtering: bool = False,
    vlan: int | None = None,
    vid: str | None = None,
    address: str | None = None,
) -> vif_objects.VIFBridge:
    """A ``VIFBridge`` of the linux_bridge plugin on ``bridge``."""
    vid = vid or vif_id(n, family=0x0F6B0000)
    net = network_of(
        bridge,
        mtu,
        should_provide_bridge=True,
        should_provide_vlan=vlan is not None,
        bridge_interface=uplink,
        vlan=vlan,
    )
    return vif_objects.VIFBridge(
        id=vid,
        address=address or mac(n, kind=0x10),
        network=net,
        plugin="linux_bridge",
        vif_name=tap or names.port_name("tap", vid),
        bridge_name=bridge,
        has_traffic_filtering=filtering,
    )


#: The port profiles :func:`offload_vif` gives (see there).
OffloadProfile = Literal["offload", "ovs_representor", "ovs_offload"]


def _offload_profile(
    kind: OffloadProfile | None, vid: str, vf_address: str, **extra: Any
) -> vif_objects.VIFPortProfileBase | None:
    if kind is None:
        return None
    offload = vif_objects.DatapathOffloadRepresentor(
        representor_address=vf_address
    )
    if kind == "offload":
        return vif_objects.VIFPortProfileBase(
            datapath_offload=offload, **extra
        )
    if kind == "ovs_representor":
        return vif_objects.VIFPortProfileOVSRepresentor(
            interface_id=vid,
            datapath_type="netdev",
            representor_address=vf_address,
            **extra,
        )
    if kind == "ovs_offload":
        return vif_objects.VIFPortProfileOpenVSwitch(
            interface_id=vid,
            datapath_type="netdev",
            datapath_offload=offload,
            **extra,
        )
    raise ValueError("no such offload port profile: %r" % (kind,))


def offload_vif(
    vf_address: str,
    n: int = 0,
    *,
    profile: OffloadProfile | None = "offload",
    bridge: str | None = "brq-offload",
    mtu: int | None = 1400,
    vlan: int | None = None,
    vid: str | None = None,
    **profile_extra: Any,
) -> vif_objects.VIFHostDevice:
    """A ``VIFHostDevice`` of the offload plugin: the VF at ``vf_address``.

    ``profile`` says where its representor goes:

    * ``"offload"`` -- a ``VIFPortProfileBase`` asking for representor
      offload: the switch is the plugin's ``default_switch`` (a Linux
      bridge ``bridge``, or Open vSwitch);
    * ``"ovs_representor"`` -- a ``VIFPortProfileOVSRepresentor``: an Open
      vSwitch port on ``bridge`` (``netdev`` datapath), ``iface-id`` the
      VIF id;
    * ``"ovs_offload"`` -- a ``VIFPortProfileOpenVSwitch`` with representor
      offload, as nova sends for OVS hardware offload;
    * ``None`` -- no port profile: classic SR-IOV, the VF only.

    ``bridge=None`` is a network that names no bridge; ``vlan`` the
    network's VLAN; ``profile_extra`` more fields of the port profile.
    """
    vid = vid or vif_id(n, family=0x0FF10000)
    vif = vif_objects.VIFHostDevice(
        id=vid,
        address=mac(n, kind=0x20),
        network=network_of(
            bridge, mtu, **({} if vlan is None else {"vlan": vlan})
        ),
        plugin="offload",
        dev_type="ethernet",
        dev_address=vf_address,
    )
    port_profile = _offload_profile(profile, vid, vf_address, **profile_extra)
    if port_profile is not None:
        vif.port_profile = port_profile
    return vif


def offload_direct_vif(
    vf_address: str,
    n: int = 0,
    *,
    bridge: str | None = "brq-offload",
    mtu: int | None = 1400,
    vid: str | None = None,
) -> vif_objects.VIFDirect:
    """A passthrough ``VIFDirect`` (a macvtap) on the VF at ``vf_address``.

    Of the offload plugin, without a port profile: its representor goes to
    the plugin's ``default_switch``.
    """
    vid = vid or vif_id(n, family=0x0FF20000)
    return vif_objects.VIFDirect(
        id=vid,
        address=mac(n, kind=0x21),
        network=network_of(bridge, mtu),
        plugin="offload",
        vif_name="macvtap%d" % n,
        mode="passthrough",
        dev_address=vf_address,
    )


def nested_vif(
    n: int = 0,
    *,
    vlan_id: int | None = None,
    vid: str | None = None,
    plugin: str = "noop",
) -> vif_objects.VIFVlanNested:
    """A ``VIFVlanNested`` of the noop plugin, as Kuryr sends for a pod.

    Its device ``eth<n>`` is a VLAN of the VM's own interface that Kuryr,
    not os-vif, makes; ``vlan_id`` defaults to ``100 + n``.  ``plugin``
    names another plugin (one not installed: a VIF no plugin takes).
    """
    vid = vid or vif_id(n, family=0x0E570000)
    return vif_objects.VIFVlanNested(
        id=vid,
        address=mac(n, kind=0x30),
        network=network_of(None),
        plugin=plugin,
        vif_name="eth%d" % n,
        vlan_id=100 + n if vlan_id is None else vlan_id,
    )
