"""The scenario matrix of the differential suite, declared as data.

Each :class:`Scenario` names its VIFs (built here, sent to both releases
in their wire form), the devices the hypervisor or an agent made before
(``premade``: the integration bridge as neutron's agent makes it, a tap
libvirt made, a smart NIC's representor...), and its steps: ``plug`` and
``unplug`` of some of its VIFs, each run on the reference host by os-vif
5.3.0 and on the subject host by the step's actor (``by``: this checkout
unless said otherwise), and ``make`` steps that make a device on both
hosts between two calls (a tap libvirt adds to a ``qbr``).  Every
scenario ends with its VIFs unplugged: the hosts must then be as they were
before its first step, but for the bridges named in ``remains`` (a network
bridge a plug made, which neither release removes) and the devices its
``make`` steps made.

Left out: ``VIFHostDevice`` with a representor (``VIFPortProfileOVS
Representor``, or a ``VIFPortProfileOpenVSwitch`` on a VF).  Both releases
find the VF's representor through the PCI address in ``/sys/bus/pci``
(the PF's switchdev netdev, ``phys_port_name``, ``virtfn*`` links), which
a network namespace does not change and this machine has no SR-IOV
device for; neither release can be pointed at a fake one.  The smart-NIC
path of neutron's agent, which plugs a representor that already exists
by name, is covered (``smartnic-*``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from os_vif.objects import instance_info, network
from os_vif.objects import vif as vif_objects
from os_vif.sandbox import vifs as factories

__all__ = ["OURS", "SCENARIOS", "V530", "Device", "Scenario", "Step"]

#: The actors: this checkout's os_vif and the released os-vif 5.3.0.
OURS = "ours"
V530 = "5.3.0"
#: A port profile with no ``datapath_type`` (the plugins then choose).
UNSET = None
#: The configuration every scenario starts from (os-vif's defaults).
DEFAULT_OPTIONS: Mapping[str, Any] = {
    "isolate_vif": False,
    "per_port_bridge": False,
    "default_qos_type": "linux-noop",
}


@dataclasses.dataclass(frozen=True)
class Device:
    """A device made outside os-vif: by libvirt, an agent, the NIC."""

    kind: str  # "tap", "veth" or "ovs-bridge"
    name: str
    address: str | None = None
    mtu: int | None = None
    master: str | None = None
    peer: str | None = None  # veth
    datapath_type: str | None = None  # ovs-bridge


@dataclasses.dataclass(frozen=True)
class Step:
    """One step: plug/unplug VIFs, or make a device on both hosts."""

    op: str  # "plug", "unplug" or "make"
    vifs: tuple[str, ...] = ()
    by: str = OURS
    device: Device | None = None

    @property
    def label(self) -> str:
        """How reports name the step (without its number)."""
        if self.op == "make":
            assert self.device is not None
            return "make %s %s" % (self.device.kind, self.device.name)
        return "%s %s by %s" % (self.op, ",".join(self.vifs), self.by)


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A named sequence of steps on both hosts, and what it starts from."""

    name: str
    vifs: Mapping[str, Any]
    steps: tuple[Step, ...]
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    premade: tuple[Device, ...] = ()
    remains: tuple[str, ...] = ()
    instance: Any = factories.INSTANCE

    @property
    def config(self) -> dict[str, Any]:
        """``[os_vif_ovs]`` options for this scenario, defaults filled in."""
        return {**DEFAULT_OPTIONS, **self.options}

    def made_links(self) -> set[str]:
        """Links the scenario's ``make`` steps make (libvirt's to remove)."""
        return {
            step.device.name
            for step in self.steps
            if step.device is not None and step.device.kind != "ovs-bridge"
        }

    def known_macs(self) -> set[str]:
        """MACs the scenario chose (the rest are generated)."""
        macs = {vif.address.lower() for vif in self.vifs.values()}
        for device in self.premade + tuple(
            step.device for step in self.steps if step.device is not None
        ):
            if device.address:
                macs.add(device.address.lower())
        return macs


# -- steps -------------------------------------------------------------------


def plug(*names: str, by: str = OURS) -> Step:
    """Plug the VIFs ``names`` (each on its own, in order)."""
    return Step("plug", names, by)


def unplug(*names: str, by: str = OURS) -> Step:
    """Unplug the VIFs ``names``."""
    return Step("unplug", names, by)


def make(device: Device) -> Step:
    """Make ``device`` on both hosts."""
    return Step("make", device=device)


# -- devices and VIFs --------------------------------------------------------

#: The integration bridge as neutron's agent makes it (userspace datapath).
BR_INT = Device("ovs-bridge", "br-int", datapath_type="netdev")
#: ...and with the kernel datapath, which ovs-vswitchd cannot open here
#: (no openvswitch module): its rows are written, its ports get an error.
BR_INT_SYSTEM = Device("ovs-bridge", "br-int", datapath_type="system")
TRUNK = "tbr-e5f60001-0"


def _id(n: int) -> str:
    return factories.vif_id(n)


def _mac(n: int) -> str:
    return "fa:16:3e:00:00:%02x" % n


def _tap(n: int) -> str:
    return ("tap" + _id(n))[:14]


def _qbr(n: int) -> str:
    return ("qbr" + _id(n))[:14]


def _profile(n: int, datapath: str | None, **flags: Any) -> Any:
    fields = {"interface_id": _id(n), **flags}
    if datapath is not None:
        fields["datapath_type"] = datapath
    return vif_objects.VIFPortProfileOpenVSwitch(**fields)


def _network(bridge: str, mtu: int | None) -> Any:
    net = network.Network(id=factories.NETWORK_ID, bridge=bridge)
    if mtu is not None:
        net.mtu = mtu
    return net


def ovs(
    n: int = 1,
    *,
    datapath: str | None = "netdev",
    bridge: str = "br-int",
    mtu: int | None = 1450,
    create_port: bool = True,
    create_tap: bool = True,
    multiqueue: bool = False,
) -> vif_objects.VIFOpenVSwitch:
    """A ``VIFOpenVSwitch`` (nova with ``create_port``/``create_tap``)."""
    return vif_objects.VIFOpenVSwitch(
        id=_id(n),
        address=_mac(n),
        network=_network(bridge, mtu),
        plugin="ovs",
        vif_name=_tap(n),
        bridge_name=bridge,
        port_profile=_profile(
            n, datapath, create_port=create_port, create_tap=create_tap,
            multiqueue=multiqueue,
        ),
    )


def hybrid(
    n: int = 1,
    *,
    datapath: str | None = "netdev",
    bridge: str = "br-int",
    mtu: int | None = 1450,
    filtering: bool = True,
    create_tap: bool = False,
) -> vif_objects.VIFBridge:
    """A hybrid ``VIFBridge`` (``qbr``/``qvb``/``qvo``), same id and MAC
    as :func:`ovs` of the same ``n`` (a port that cold-migrates)."""
    profile = (
        _profile(n, datapath, create_tap=True) if create_tap
        else _profile(n, datapath)
    )
    return vif_objects.VIFBridge(
        id=_id(n),
        address=_mac(n),
        network=_network(bridge, mtu),
        plugin="ovs",
        vif_name=_tap(n),
        bridge_name=_qbr(n),
        has_traffic_filtering=filtering,
        port_profile=profile,
    )


def vhu(
    n: int = 1,
    *,
    mode: str = "server",
    datapath: str | None = "netdev",
    bridge: str = "br-int",
    create_tap: bool = False,
) -> vif_objects.VIFVHostUser:
    """A ``VIFVHostUser``; ``server``: QEMU serves the socket."""
    profile = (
        _profile(n, datapath, create_tap=True) if create_tap
        else _profile(n, datapath)
    )
    return vif_objects.VIFVHostUser(
        id=_id(n),
        address=_mac(n),
        network=_network(bridge, 1500),
        plugin="ovs",
        vif_name=("vhu" + _id(n))[:14],
        mode=mode,
        path="/run/os-vif-differential/vhu%d.sock" % n,
        port_profile=profile,
    )


#: The smart NIC's representor (a veth end made by hand) and its MAC.
REPRESENTOR = "eth-rep1"
REPRESENTOR_MAC = "fa:16:3e:00:00:99"
SMARTNIC_DEVICE_ID = "7a3c2b1e-5d6f-4a8b-9c0d-1e2f3a4b5c6d"


def smartnic() -> vif_objects.VIFOpenVSwitch:
    """The VIF neutron's OVS agent builds for a smart-NIC port.

    As ``ovs_neutron_agent`` does (``_get_vif_object``): no ``id``, a
    network with only the integration bridge and the physical network's
    MTU, no datapath type, ``create_port`` and the representor's name.
    """
    return vif_objects.VIFOpenVSwitch(
        plugin="ovs",
        port_profile=vif_objects.VIFPortProfileOpenVSwitch(
            interface_id="0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
            create_port=True,
        ),
        network=network.Network(bridge="br-int", mtu=1450),
        vif_name=REPRESENTOR,
        address=REPRESENTOR_MAC,
    )


def _libvirt_tap(n: int, master: str | None = None) -> Device:
    # libvirt gives its taps the guest's MAC with the first byte fe.
    return Device("tap", _tap(n), address="fe" + _mac(n)[2:], mtu=1450,
                  master=master)


_REPRESENTOR_PAIR = Device("veth", REPRESENTOR, address=REPRESENTOR_MAC,
                           peer="eth-vf1")


def _scenarios() -> list[Scenario]:
    S = Scenario  # noqa: N806 - reads as a table
    A = {"a": ovs()}  # noqa: N806
    H = {"h": hybrid()}  # noqa: N806
    V = {"v": vhu()}  # noqa: N806
    netdev = (BR_INT,)
    system = (BR_INT_SYSTEM,)
    isolate = {"isolate_vif": True}
    ppb = {"per_port_bridge": True}
    return [
        # -- VIFOpenVSwitch: profile options ---------------------------
        S("ovs-tap", A, (plug("a"), unplug("a")), premade=netdev),
        S("ovs-tap-multiqueue", {"a": ovs(multiqueue=True)},
          (plug("a"), unplug("a")), premade=netdev),
        S("ovs-tap-replug", A, (plug("a"), plug("a"), unplug("a")),
          premade=netdev),
        S("ovs-tap-replug-new-mtu", {"a": ovs(), "b": ovs(mtu=1400)},
          (plug("a"), plug("b"), unplug("b")), premade=netdev),
        S("ovs-tap-unplug-twice", A, (plug("a"), unplug("a"), unplug("a")),
          premade=netdev),
        S("ovs-unplug-never-plugged", A, (unplug("a"),), premade=netdev),
        S("ovs-tap-no-network-mtu", {"a": ovs(mtu=None)},
          (plug("a"), unplug("a")), premade=netdev),
        S("ovs-port-hypervisor-tap", {"a": ovs(create_tap=False)},
          (plug("a"), unplug("a")), premade=(BR_INT, _libvirt_tap(1))),
        S("ovs-port-no-tap-yet", {"a": ovs(create_tap=False)},
          (plug("a"), unplug("a")), premade=netdev),
        S("ovs-no-port", {"a": ovs(create_port=False, create_tap=False)},
          (plug("a"), unplug("a")), premade=netdev),
        S("ovs-tap-without-port", {"a": ovs(create_port=False)},
          (plug("a"), unplug("a")), premade=netdev),
        S("ovs-no-port-new-bridge",
          {"a": ovs(bridge="br-new", create_port=False, create_tap=False)},
          (plug("a"), unplug("a")), remains=("br-new",)),
        S("ovs-tap-new-bridge", A, (plug("a"), unplug("a")),
          remains=("br-int",)),
        # -- datapath types and QoS ------------------------------------
        S("ovs-tap-system", {"a": ovs(datapath="system")},
          (plug("a"), unplug("a")), premade=system),
        S("ovs-tap-datapath-unset", {"a": ovs(datapath=UNSET)},
          (plug("a"), unplug("a")), premade=system),
        S("ovs-tap-system-new-bridge", {"a": ovs(datapath="system")},
          (plug("a"), unplug("a")), remains=("br-int",)),
        S("ovs-tap-system-replug", {"a": ovs(datapath="system")},
          (plug("a"), plug("a"), unplug("a")), premade=system),
        S("ovs-tap-system-qos-htb", {"a": ovs(datapath="system")},
          (plug("a"), unplug("a")), premade=system,
          options={"default_qos_type": "linux-htb"}),
        S("ovs-tap-system-qos-fq-codel", {"a": ovs(datapath="system")},
          (plug("a"), plug("a"), unplug("a")), premade=system,
          options={"default_qos_type": "linux-fq_codel"}),
        S("ovs-datapath-switch", {"a": ovs(datapath="system")},
          (plug("a"), unplug("a")), premade=netdev),
        # -- isolate_vif, trunks, per_port_bridge ----------------------
        S("ovs-tap-isolated", A, (plug("a"), unplug("a")), premade=netdev,
          options=isolate),
        S("ovs-tap-isolated-replug", A, (plug("a"), plug("a"), unplug("a")),
          premade=netdev, options=isolate),
        S("trunk-ovs-tap", {"a": ovs(bridge=TRUNK)},
          (plug("a"), unplug("a"))),
        S("trunk-ovs-tap-isolated", {"a": ovs(bridge=TRUNK)},
          (plug("a"), unplug("a")), options=isolate),
        # A trunk with two subports: one leaves, the other stays on it.
        S("trunk-two-subports",
          {"a": ovs(1, bridge=TRUNK), "b": ovs(2, bridge=TRUNK)},
          (plug("a", "b"), unplug("a"), unplug("b"))),
        S("trunk-per-port-bridge-isolated", {"a": ovs(bridge=TRUNK)},
          (plug("a"), unplug("a")), options={**ppb, **isolate}),
        S("trunk-ovs-no-port",
          {"a": ovs(bridge=TRUNK, create_port=False, create_tap=False)},
          (plug("a"), unplug("a"))),
        S("per-port-bridge", A, (plug("a"), unplug("a")), premade=netdev,
          options=ppb),
        S("per-port-bridge-isolated", A, (plug("a"), unplug("a")),
          premade=netdev, options={**ppb, **isolate}),
        S("per-port-bridge-system", {"a": ovs(datapath="system")},
          (plug("a"), unplug("a")), premade=system, options=ppb),
        S("per-port-bridge-replug", A, (plug("a"), plug("a"), unplug("a")),
          premade=netdev, options=ppb),
        # -- hybrid VIFBridge ------------------------------------------
        S("hybrid", H, (plug("h"), unplug("h")), premade=netdev),
        S("hybrid-replug", H, (plug("h"), plug("h"), unplug("h")),
          premade=netdev),
        S("hybrid-replug-new-mtu", {"h": hybrid(), "g": hybrid(mtu=1400)},
          (plug("h"), plug("g"), unplug("g")), premade=netdev),
        S("hybrid-no-filtering", {"h": hybrid(filtering=False)},
          (plug("h"), unplug("h")), premade=netdev),
        S("hybrid-system", {"h": hybrid(datapath="system")},
          (plug("h"), unplug("h")), premade=system),
        S("hybrid-isolated", H, (plug("h"), unplug("h")), premade=netdev,
          options=isolate),
        S("hybrid-create-tap", {"h": hybrid(create_tap=True)},
          (plug("h"), unplug("h")), premade=netdev),
        S("hybrid-unplug-with-tap-on-qbr", H,
          (plug("h"), make(_libvirt_tap(1, master=_qbr(1))), unplug("h")),
          premade=netdev),
        S("trunk-hybrid", {"h": hybrid(bridge=TRUNK)},
          (plug("h"), unplug("h"))),
        # -- cold migration: the same port, the other strategy ---------
        S("hybrid-to-plain", {"h": hybrid(), "a": ovs(create_tap=False)},
          (plug("h"), unplug("a")), premade=netdev),
        # 5.3.0 unplugs a hybrid VIF's qbr/qvb/qvo only: the tap and port
        # stay until the port is unplugged as what it was.
        S("plain-to-hybrid", {"a": ovs(), "h": hybrid()},
          (plug("a"), unplug("h"), unplug("a")), premade=netdev),
        # -- vhost-user ------------------------------------------------
        S("vhu-server", V, (plug("v"), unplug("v")), premade=netdev),
        S("vhu-client", {"v": vhu(mode="client")}, (plug("v"), unplug("v")),
          premade=netdev),
        S("vhu-replug", V, (plug("v"), plug("v"), unplug("v")),
          premade=netdev),
        S("vhu-datapath-unset", {"v": vhu(datapath=UNSET)},
          (plug("v"), unplug("v")), remains=("br-int",)),
        S("vhu-isolated", V, (plug("v"), unplug("v")), premade=netdev,
          options=isolate),
        S("vhu-per-port-bridge", V, (plug("v"), unplug("v")),
          premade=netdev, options=ppb),
        S("vhu-create-tap", {"v": vhu(create_tap=True)},
          (plug("v"), unplug("v")), premade=netdev),
        S("trunk-vhu", {"v": vhu(bridge=TRUNK)}, (plug("v"), unplug("v"))),
        # -- several VIFs of one instance ------------------------------
        S("mixed-instance", {"a": ovs(1), "h": hybrid(2), "v": vhu(3)},
          (plug("a", "h", "v"), unplug("a", "h", "v")), premade=netdev),
        # -- neutron's OVS agent, smart NIC ----------------------------
        S("smartnic", {"r": smartnic()}, (plug("r"), unplug("r")),
          premade=(BR_INT_SYSTEM, _REPRESENTOR_PAIR),
          instance=instance_info.InstanceInfo(uuid=SMARTNIC_DEVICE_ID)),
        # -- upgrade: 5.3.0 plugged, we re-plug and unplug -------------
        S("upgrade-ovs-tap", A,
          (plug("a", by=V530), plug("a"), unplug("a")), premade=netdev),
        S("upgrade-ovs-tap-system", {"a": ovs(datapath="system")},
          (plug("a", by=V530), plug("a"), unplug("a")), premade=system),
        S("upgrade-ovs-tap-isolated", A,
          (plug("a", by=V530), plug("a"), unplug("a")), premade=netdev,
          options=isolate),
        S("upgrade-hybrid", H,
          (plug("h", by=V530), plug("h"), unplug("h")), premade=netdev),
        S("upgrade-hybrid-system", {"h": hybrid(datapath="system")},
          (plug("h", by=V530), plug("h"), unplug("h")), premade=system),
        S("upgrade-vhu", V,
          (plug("v", by=V530), plug("v"), unplug("v")), premade=netdev),
        S("upgrade-per-port-bridge", A,
          (plug("a", by=V530), plug("a"), unplug("a")), premade=netdev,
          options=ppb),
        S("upgrade-trunk", {"a": ovs(bridge=TRUNK)},
          (plug("a", by=V530), plug("a"), unplug("a"))),
        S("upgrade-unplug-only", {"a": ovs(), "h": hybrid(2)},
          (plug("a", "h", by=V530), unplug("a", "h")), premade=netdev),
        # -- downgrade: we plugged, 5.3.0 unplugs ----------------------
        S("downgrade-ovs-tap", A, (plug("a"), unplug("a", by=V530)),
          premade=netdev),
        S("downgrade-ovs-tap-system", {"a": ovs(datapath="system")},
          (plug("a"), unplug("a", by=V530)), premade=system),
        S("downgrade-hybrid", H, (plug("h"), unplug("h", by=V530)),
          premade=netdev),
        S("downgrade-hybrid-system", {"h": hybrid(datapath="system")},
          (plug("h"), unplug("h", by=V530)), premade=system),
        S("downgrade-vhu", V, (plug("v"), unplug("v", by=V530)),
          premade=netdev),
        S("downgrade-per-port-bridge", A,
          (plug("a"), unplug("a", by=V530)), premade=netdev, options=ppb),
        S("downgrade-trunk", {"a": ovs(bridge=TRUNK)},
          (plug("a"), unplug("a", by=V530))),
        S("downgrade-replug", {"a": ovs(), "h": hybrid(2)},
          (plug("a", "h"), plug("a", "h", by=V530),
           unplug("a", "h", by=V530)), premade=netdev),
    ]


#: Every scenario, in the order the suite runs them.
SCENARIOS: tuple[Scenario, ...] = tuple(_scenarios())
